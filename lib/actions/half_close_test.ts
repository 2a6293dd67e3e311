import assert from "node:assert/strict";
import { halfCloseAction } from "./half_close.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("half-close takes the client down with its FIN or RST, the capture telling when", async () => {
  const { ctx, calls } = fakeContext();
  const done = await halfCloseAction.run(ctx, { kind: "half-close" });
  assert.deepEqual(calls.map((c) => [c.op, c.args[0]]), [["halfClose", 7]]);
  assert.deepEqual(done.records, [
    { actor: "client", action: "half-close", t: 13, ok: true },
  ]);
  assert.ok(halfCloseAction.takesClientDown({ kind: "half-close" }));
  assert.ok(halfCloseAction.endsWithSegment({ kind: "half-close" }));
  const failed = fakeContext({
    answers: { halfClose: () => ({ ok: false, t: 13, error: "EBADF", message: "" }) },
  });
  const record = (await halfCloseAction.run(failed.ctx, { kind: "half-close" })).records[0];
  assert.equal(record?.ok, false);
  assert.equal(record?.error, "EBADF");
});
