import assert from "node:assert/strict";
import { CommandError, CommandTimeout, run } from "./spawn.ts";

Deno.test("a command that hangs is killed at its timeout, and says so", async () => {
  const start = performance.now();
  await assert.rejects(run(["sleep", "30"], { timeoutMs: 200 }), (error: unknown) => {
    assert.ok(error instanceof CommandTimeout);
    assert.match(error.message, /did not finish within 200 ms and was killed: sleep 30/);
    return true;
  });
  // Killed, not waited for: well under the command's own 30 s (generous for a busy machine).
  assert.ok(performance.now() - start < 10_000);
});

Deno.test("a non-zero exit is an error unless accepted", async () => {
  await assert.rejects(run(["sh", "-c", "exit 3"]), CommandError);
  assert.equal((await run(["sh", "-c", "exit 3"], { accept: [3] })).code, 3);
});
