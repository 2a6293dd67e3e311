import assert from "node:assert/strict";
import { sendPartialAction } from "./send_partial.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("send-partial sends the first bytes of a request and nothing more", async () => {
  const { ctx, calls } = fakeContext();
  const done = await sendPartialAction.run(ctx, { kind: "send-partial" });
  assert.deepEqual(calls.map((c) => [c.op, c.args[1]]), [["send", "PI"]]);
  assert.equal(done.records[0]?.action, "send-partial");
  assert.equal(sendPartialAction.takesClientDown({ kind: "send-partial" }), false);
});
