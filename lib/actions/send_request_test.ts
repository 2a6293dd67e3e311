import assert from "node:assert/strict";
import { HarnessError } from "./action.ts";
import { sendRequestAction } from "./send_request.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("send-request sends the small request and reads nothing", async () => {
  const { ctx, calls } = fakeContext();
  const done = await sendRequestAction.run(ctx, { kind: "send-request" });
  assert.deepEqual(calls.map((c) => [c.op, c.args[1]]), [["send", "PING\n"]]);
  assert.deepEqual(done.records, [
    { actor: "client", action: "send-request", t: 11, ok: true, traffic: true },
  ]);
});

Deno.test("send-request: a send the socket refuses is the harness's error", async () => {
  const { ctx } = fakeContext({
    answers: { send: () => ({ ok: false, t: 11, error: "EPIPE", message: "", bytes: 0 }) },
  });
  await assert.rejects(
    sendRequestAction.run(ctx, { kind: "send-request" }),
    (e) => e instanceof HarnessError && e.message === `Step "send-request" failed: EPIPE`,
  );
});
