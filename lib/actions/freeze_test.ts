import assert from "node:assert/strict";
import { freezeAction } from "./freeze.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("freeze stops the client's process: its kernel still answers", async () => {
  const { ctx, calls } = fakeContext();
  const done = await freezeAction.run(ctx, { kind: "freeze" });
  assert.deepEqual(calls.map((c) => c.op), ["freeze"]);
  assert.deepEqual(done.records, [
    { actor: "client-host", action: "freeze", t: 15, ok: true, detail: "SIGSTOP", peer: "answers" },
  ]);
  const step = { kind: "freeze" } as const;
  assert.ok(freezeAction.takesClientDown(step) && freezeAction.needsHolder(step));
  assert.ok(!freezeAction.endsWithSegment(step), "nothing goes on the wire");
});
