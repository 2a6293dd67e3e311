import assert from "node:assert/strict";
import { closeAction } from "./close.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("close takes the client down with its FIN or RST, the capture telling when", async () => {
  const { ctx, calls } = fakeContext();
  const done = await closeAction.run(ctx, { kind: "close" });
  assert.deepEqual(calls.map((c) => [c.op, c.args[0]]), [["close", 7]]);
  assert.deepEqual(done.records, [
    { actor: "client", action: "close", t: 13, ok: true, peer: "resets" },
  ]);
  assert.ok(closeAction.takesClientDown({ kind: "close" }));
  assert.ok(closeAction.endsWithSegment({ kind: "close" }));
  const failed = fakeContext({
    answers: { close: () => ({ ok: false, t: 13, error: "EBADF", message: "" }) },
  });
  const record = (await closeAction.run(failed.ctx, { kind: "close" })).records[0];
  assert.equal(record?.ok, false);
  assert.equal(record?.error, "EBADF");
});
