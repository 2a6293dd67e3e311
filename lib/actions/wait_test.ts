import assert from "node:assert/strict";
import { fakeContext } from "./testdata/fake_context.ts";
import { waitAction } from "./wait.ts";

Deno.test("wait is a pause of the scenario's own, which only an interrupt cuts short", async () => {
  assert.equal(waitAction.pauseMs({ kind: "wait", duration: "30s" }), 30_000);
  assert.equal(waitAction.actor({ kind: "wait", duration: "1s" }), "harness");
  assert.deepEqual(waitAction.check({ kind: "wait", duration: "soon" as never }), {
    field: "duration",
    expected: `a duration like "75s" or "10m" (got "soon")`,
  });
  // An aborted signal ends the pause at once: no timer of its own to race.
  const interrupted = new AbortController();
  interrupted.abort();
  const { ctx } = fakeContext({ context: { signal: interrupted.signal } });
  const done = await waitAction.run(ctx, { kind: "wait", duration: "1h" });
  assert.equal(done.records[0]?.detail, "1h");
  assert.equal(done.records[0]?.actor, "harness");
});
