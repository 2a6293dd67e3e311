import assert from "node:assert/strict";
import { NotApplicable } from "./action.ts";
import { requestLargeAction } from "./request_large.ts";
import { fakeContext, NO_LARGE_TARGET } from "./testdata/fake_context.ts";

Deno.test("request-large asks for the large response, or does not apply without one", async () => {
  const { ctx, calls } = fakeContext();
  await requestLargeAction.run(ctx, { kind: "request-large" });
  assert.deepEqual(calls.map((c) => [c.op, c.args[1]]), [["send", "BIG\n"]]);
  const target = NO_LARGE_TARGET;
  await assert.rejects(
    requestLargeAction.run(fakeContext({ context: { target } }).ctx, { kind: "request-large" }),
    NotApplicable,
  );
});
