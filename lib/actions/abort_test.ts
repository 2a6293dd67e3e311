import assert from "node:assert/strict";
import { abortAction } from "./abort.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("abort takes the client down with its FIN or RST, the capture telling when", async () => {
  const { ctx, calls } = fakeContext();
  const done = await abortAction.run(ctx, { kind: "abort" });
  assert.deepEqual(calls.map((c) => [c.op, c.args[0]]), [["abort", 7]]);
  assert.deepEqual(done.records, [
    { actor: "client", action: "abort", t: 13, ok: true, peer: "resets" },
  ]);
  assert.ok(abortAction.takesClientDown({ kind: "abort" }));
  assert.ok(abortAction.endsWithSegment({ kind: "abort" }));
  const failed = fakeContext({
    answers: { abort: () => ({ ok: false, t: 13, error: "EBADF", message: "" }) },
  });
  const record = (await abortAction.run(failed.ctx, { kind: "abort" })).records[0];
  assert.equal(record?.ok, false);
  assert.equal(record?.error, "EBADF");
});
