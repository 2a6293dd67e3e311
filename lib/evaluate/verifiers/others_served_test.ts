import assert from "node:assert/strict";
import { othersServedVerifier as v } from "./others_served.ts";
import { died, facts } from "./testdata/facts.ts";

const e = v.build();

Deno.test("others-served: latencies and timeouts of the bystander decide", () => {
  const sample = { startedAt: 1500, endedAt: 1510, ok: true, latencyMs: 10, reconnected: false };
  const served = facts((obs) => obs.bystander = [sample], {
    measurements: { othersMaxLatencyMs: 10, othersTimeouts: 0 },
  });
  assert.deepEqual(v.judge(e, served), {
    met: true,
    actual: "max 10 ms, 0 of 1 unanswered",
    found: { ms: 10, unanswered: 0, of: 1 },
  });
  assert.equal(v.judge(e, facts()).met, "inconclusive");
});

Deno.test("others-served: a dead server served no one, whatever its earlier answers", () => {
  const j = v.judge(
    e,
    facts(died(1200), { measurements: { othersMaxLatencyMs: 3, othersTimeouts: 0 } }),
  );
  assert.equal(j.met, false);
  assert.match(j.actual, /^not served: server killed by SIGPIPE/);
});

Deno.test("others-served: a figure above the bound fails, whatever the probe's own timeout", () => {
  const sample = {
    startedAt: 1500,
    endedAt: 2510,
    ok: true,
    latencyMs: 1008,
    kernelLatencyMs: 1004,
    reconnected: false,
  };
  const measurements = { othersMaxLatencyMs: 1004, othersTimeouts: 0 };
  const probed = facts((obs) => {
    obs.bystander = [sample];
    obs.bystanderTimeoutMs = 1000;
  }, { measurements });
  assert.deepEqual(v.judge(e, probed), {
    met: false,
    actual: "max 1004 ms, 0 of 1 unanswered",
    found: { ms: 1004, unanswered: 0, of: 1 },
  });
});

Deno.test("others-served: the server's own close of the bystander's connection is recorded, not a stall", () => {
  const closed = {
    startedAt: 1500,
    endedAt: 1512,
    ok: true,
    latencyMs: 6,
    kernelLatencyMs: 5,
    reconnected: true,
    serverClosed: true as const,
    farewell: "421 Login timeout",
  };
  const measurements = { othersMaxLatencyMs: 5, othersTimeouts: 0 };
  const j = v.judge(e, facts((obs) => obs.bystander = [closed], { measurements }));
  assert.deepEqual(j, {
    met: true,
    actual: "max 5 ms, 0 of 1 unanswered, 1 connection(s) closed by the server on its own",
    found: { ms: 5, unanswered: 0, of: 1 },
  });
});
