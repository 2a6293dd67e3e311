import assert from "node:assert/strict";
import { serverAliveVerifier as v } from "./server_alive.ts";
import { died, facts } from "./testdata/facts.ts";

Deno.test("server-alive: a death is broken, with its signal and moment; advice for SIGPIPE", () => {
  assert.deepEqual(v.judge(v.build(), facts()), { met: true, actual: "still running" });
  const dead = facts(died(1250));
  assert.deepEqual(v.judge(v.build(), dead), {
    met: false,
    actual: "server killed by SIGPIPE, 250 ms after the fault",
  });
  assert.match(v.advice(v.build(), dead), /MSG_NOSIGNAL/);
});
