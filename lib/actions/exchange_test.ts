import assert from "node:assert/strict";
import { HarnessError } from "./action.ts";
import { exchangeAction } from "./exchange.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("exchange sends the request and reads its response on the connection under test", async () => {
  const { ctx, calls } = fakeContext();
  const done = await exchangeAction.run(ctx, { kind: "exchange" });
  assert.deepEqual(calls.map((c) => [c.op, c.args[0]]), [["send", 7], ["read", 7]]);
  assert.deepEqual(done.records, [
    { actor: "client", action: "exchange", traffic: true, t: 12, ok: true },
  ]);
});

Deno.test("exchange: no connection, or no answer before the fault, is the harness's error", async () => {
  await assert.rejects(
    exchangeAction.run(fakeContext({ context: { conn: undefined } }).ctx, { kind: "exchange" }),
    HarnessError,
  );
  const eof = fakeContext({
    answers: { read: () => ({ ok: true, t: 12, bytes: 0, found: false, eof: true, head: "" }) },
  });
  await assert.rejects(
    exchangeAction.run(eof.ctx, { kind: "exchange" }),
    (e) => e instanceof HarnessError && /EOF/.test(e.message),
  );
});
