import assert from "node:assert/strict";
import { stopReadingAction } from "./stop_reading.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("stop-reading ends the background read; the client's kernel still answers", async () => {
  const reading = fakeContext({ context: { background: Promise.resolve() } });
  const done = await stopReadingAction.run(reading.ctx, { kind: "stop-reading" });
  assert.deepEqual(reading.calls.map((c) => c.op), ["stopReading"]);
  assert.deepEqual(done.records, [
    { actor: "client", action: "stop-reading", t: 13, ok: true, peer: "answers" },
  ]);
  const idle = fakeContext();
  const quiet = await stopReadingAction.run(idle.ctx, { kind: "stop-reading" });
  assert.deepEqual(idle.calls, [], "nothing to stop without a background read");
  assert.equal(quiet.records[0]?.peer, "answers");
  assert.ok(stopReadingAction.takesClientDown({ kind: "stop-reading" }));
});
