import assert from "node:assert/strict";
import { thawAction } from "./thaw.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("thaw resumes the client's process and takes nothing down", async () => {
  const { ctx, calls } = fakeContext();
  const done = await thawAction.run(ctx, { kind: "thaw" });
  assert.deepEqual(calls.map((c) => c.op), ["thaw"]);
  assert.deepEqual(done.records, [
    { actor: "client-host", action: "thaw", t: 16, ok: true, detail: "SIGCONT", peer: "answers" },
  ]);
  assert.ok(!thawAction.takesClientDown({ kind: "thaw" }));
  assert.ok(thawAction.needsHolder({ kind: "thaw" }));
});
