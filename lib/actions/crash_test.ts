import assert from "node:assert/strict";
import { crashAction } from "./crash.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("crash kills the client's process: its kernel resets what follows", async () => {
  const { ctx, calls } = fakeContext();
  const done = await crashAction.run(ctx, { kind: "crash" });
  assert.deepEqual(calls.map((c) => c.op), ["crash"]);
  assert.deepEqual(done.records, [
    { actor: "client-host", action: "crash", t: 14, ok: true, detail: "SIGKILL", peer: "resets" },
  ]);
  const step = { kind: "crash" } as const;
  assert.ok(crashAction.takesClientDown(step) && crashAction.endsWithSegment(step));
  assert.ok(crashAction.needsHolder(step), "a process a step can kill holds the sockets");
});
