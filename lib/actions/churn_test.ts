import assert from "node:assert/strict";
import { HarnessError } from "./action.ts";
import { churnAction } from "./churn.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("churn opens its clients, counts those refused, then resets them all", async () => {
  let n = 0;
  const { ctx, calls } = fakeContext({
    answers: {
      connect: () =>
        ++n % 4 === 0
          ? { ok: false, t: 10, error: "ECONNREFUSED", message: "" }
          : { ok: true, t: 10, conn: 100 + n, local: { address: "192.0.2.2", port: 40000 + n } },
    },
  });
  const done = await churnAction.run(ctx, { kind: "churn", clients: 8, then: "abort" });
  assert.deepEqual(done.churn, { opened: 6, refused: 2 });
  assert.equal(calls.filter((c) => c.op === "abort").length, 6);
  assert.deepEqual(done.records.map((r) => [r.actor, r.detail]), [
    ["client", "6 clients connected, 2 refused or dropped by the server"],
    ["client", "6 clients reset"],
  ]);
  assert.equal(done.undo, undefined);
});

Deno.test("churn by crash kills the client's process; its actor is the client's host", async () => {
  const { ctx } = fakeContext();
  const done = await churnAction.run(ctx, { kind: "churn", clients: 2, then: "crash" });
  assert.deepEqual(done.records.at(-1), {
    actor: "client-host",
    action: "churn",
    ok: true,
    detail: "client process with 2 connections killed",
    t: 14,
    untimed: true,
  });
  const step = { kind: "churn", clients: 2, then: "crash" } as const;
  assert.ok(churnAction.needsHolder(step) && churnAction.takesClientDown(step));
  assert.equal(churnAction.actor({ ...step, then: "vanish" }), "router");
});

Deno.test("churn: none accepted is the harness's error; bad counts are named", async () => {
  const { ctx } = fakeContext({
    answers: { connect: () => ({ ok: false, t: 10, error: "ECONNREFUSED", message: "" }) },
  });
  await assert.rejects(
    churnAction.run(ctx, { kind: "churn", clients: 3, then: "abort" }),
    HarnessError,
  );
  assert.equal(churnAction.check({ kind: "churn", clients: 0, then: "abort" })?.field, "clients");
  assert.deepEqual(churnAction.check({ kind: "churn", clients: 5, then: "melt" as never }), {
    field: "then",
    expected: `one of abort, vanish, crash (got "melt")`,
  });
});
