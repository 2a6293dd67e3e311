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

Deno.test("others-served: an exchange the bystander saw answered in its own 1 s counts as in time", () => {
  const sample = { startedAt: 1500, endedAt: 2510, ok: true, latencyMs: 1008, reconnected: false };
  const measurements = { othersMaxLatencyMs: 1008, othersTimeouts: 0 };
  const probed = facts((obs) => {
    obs.bystander = [sample];
    obs.bystanderTimeoutMs = 1000;
  }, { measurements });
  assert.equal(v.judge(e, probed).met, true);
  // Held to a tighter bound than the probe's own, the figure decides.
  assert.equal(v.judge(v.build({ within: "500ms" }), probed).met, false);
});
