import assert from "node:assert/strict";
import { HarnessError } from "./action.ts";
import { connectAction } from "./connect.ts";
import { fakeContext, TARGET } from "./testdata/fake_context.ts";

Deno.test("connect opens the connection, tells the runner before any byte, then greets", async () => {
  const greeting = { send: "HELLO\n", until: "WELCOME\n" };
  const target = { ...TARGET, protocol: { ...TARGET.protocol, greeting } };
  const { ctx, calls, connected } = fakeContext({ context: { target, conn: undefined } });
  const done = await connectAction.run(ctx, { kind: "connect", rcvBuf: 4096 });
  assert.deepEqual(connected, [[7, 40000]]);
  assert.deepEqual(calls.map((c) => c.op), ["connect", "send", "read"]);
  assert.equal((calls[0]?.args[0] as { rcvBuf: number }).rcvBuf, 4096);
  assert.deepEqual(done.records.map((r) => [r.actor, r.action, r.t, r.ok, r.traffic]), [
    ["client", "connect", 10, true, true],
    ["client", "greeting", 12, true, true],
  ]);
  const quiet = fakeContext({ context: { target } });
  const ungreeted = await connectAction.run(quiet.ctx, { kind: "connect", greet: false });
  assert.equal(ungreeted.records.length, 1);
});

Deno.test("connect: a refused connection or greeting is the harness's error", async () => {
  const refused = fakeContext({
    answers: { connect: () => ({ ok: false, t: 10, error: "ECONNREFUSED", message: "" }) },
  });
  await assert.rejects(
    connectAction.run(refused.ctx, { kind: "connect" }),
    (e) => e instanceof HarnessError && /ECONNREFUSED/.test(e.message),
  );
  assert.deepEqual(connectAction.check({ kind: "connect", rcvBuf: 0 }), {
    field: "rcvBuf",
    expected: "a positive number of bytes",
  });
  assert.equal(connectAction.takesClientDown({ kind: "connect" }), false);
});
