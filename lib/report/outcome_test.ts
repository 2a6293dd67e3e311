import assert from "node:assert/strict";
import type { ScenarioResult } from "../results/schema.ts";
import { keyStatement, predictionSentences, releasedBy } from "./outcome.ts";

function scenario(patch: Partial<ScenarioResult>): ScenarioResult {
  return {
    id: "vanish/idle",
    title: "Client host vanishes from an idle connection",
    requirement: "A server releases an idle connection whose client host has vanished",
    level: "SHOULD",
    refs: [],
    phase: "idle",
    verdict: "pass",
    measurements: {},
    expectations: [
      {
        kind: "released",
        level: "SHOULD",
        expectation: "released within 11 min",
        budgetMs: 660000,
        verdict: "pass",
        measured: "after 75.1 s",
      },
      {
        kind: "server-alive",
        level: "MUST",
        expectation: "server keeps running",
        verdict: "pass",
        measured: "still running",
      },
    ],
    evidence: [],
    notes: "",
    durationMs: 1,
    ...patch,
  };
}

const NEVER = {
  predicted: true as const,
  releaseMs: null,
  from: "last-traffic",
  mechanism:
    "none: SO_KEEPALIVE is off: nothing probes an idle connection, so the kernel alone never ends it",
  how: "never" as const,
  reason:
    "SO_KEEPALIVE is off: nothing probes an idle connection, so the kernel alone never ends it",
  neverBecause: "SO_KEEPALIVE is off",
};

Deno.test("key statement: a release, by what", () => {
  const s = scenario({ measurements: { releaseMs: 75_100, releasedHow: "server-fin" } });
  assert.equal(keyStatement(s), "released at 75.1 s by the server's FIN");
  assert.equal(releasedBy("keepalive-timeout"), "by kernel keepalive");
});

Deno.test("key statement: held past the budget, with the prediction", () => {
  const s = scenario({
    verdict: "warn",
    measurements: { releasedHow: "never" },
    expectations: [{
      kind: "released",
      level: "SHOULD",
      expectation: "released within 11 min",
      budgetMs: 660000,
      verdict: "warn",
      measured: "not released within 11 min",
    }],
    prediction: {
      predicted: true,
      releaseMs: 7_860_000,
      from: "last-traffic",
      mechanism: "keepalive: idle 7200 s + 9 probes × 75 s after the last segment, then RST",
      how: "keepalive-timeout",
      atMs: 7_860_000,
      watchedMs: 900_000,
    },
  });
  const key = keyStatement(s, { deadlineMs: 900_000 });
  assert.equal(
    key,
    "not released within its 11 min budget; predicted: released by the kernel alone at 2 h 11 min (keepalive)",
  );
  assert.doesNotMatch(key, /released within 11 min: not released/);
  // Without the prediction's record of the watch: the budget, at most the deadline.
  delete s.prediction;
  assert.equal(
    keyStatement(s, { deadlineMs: 900_000 }),
    "not released within its 11 min budget",
  );
});

Deno.test("key statement: the server's death, with its moment", () => {
  const s = scenario({
    verdict: "fail",
    measurements: { serverExit: { code: 141, signal: "SIGPIPE", atMs: 6 } },
    expectations: [{
      kind: "server-alive",
      expectation: "server keeps running",
      verdict: "fail",
      measured: "server killed by SIGPIPE, 6 ms after the fault",
      level: "MUST",
    }],
  });
  assert.equal(keyStatement(s), "server killed by SIGPIPE 6 ms after the fault");
});

Deno.test("key statement: survival, said as a statement", () => {
  const lost = scenario({
    verdict: "info",
    level: "MAY",
    expectations: [{
      kind: "survives",
      level: "SHOULD",
      expectation: "connection survives 15 min",
      budgetMs: 900000,
      verdict: "info",
      actual: { survived: false, error: "EOF" },
      measured: "connection lost: EOF",
    }],
  });
  assert.equal(keyStatement(lost), "connection lost: EOF from the server");
  lost.measurements = { releaseMs: 25_000, releasedHow: "keepalive-timeout" };
  assert.equal(
    keyStatement(lost),
    "connection lost: the server's kernel keepalive gave up on it at 25 s; the client then saw EOF",
  );
});

Deno.test("key statement: a skip says why, never a harness note", () => {
  const s = scenario({
    verdict: "error",
    notes: "",
    harnessNotes: "A helper of the test harness did not stop cleanly.",
  });
  assert.equal(keyStatement(s), "the harness failed (see its note)");
  s.verdict = "skip";
  s.notes = "Not applicable: no large response. More words.";
  assert.equal(keyStatement(s), "Not applicable: no large response.");
});

Deno.test("prediction against measurement: contradicted, confirmed, or labelled a prediction", () => {
  const released = scenario({
    measurements: { releaseMs: 75_100, releasedHow: "server-fin" },
    prediction: NEVER,
  });
  assert.equal(
    predictionSentences(released),
    "The kernel alone would never have ended it (SO_KEEPALIVE is off); the server itself did: released at 75.1 s (FIN).",
  );
  const confirmed = scenario({
    measurements: { releaseMs: 120_300, releasedHow: "keepalive-timeout" },
    prediction: {
      predicted: true,
      releaseMs: 120_000,
      from: "last-traffic",
      mechanism: "keepalive: idle 60 s + 3 probes × 20 s",
      how: "keepalive-timeout",
      atMs: 120_000,
      toleranceMs: { early: 0, late: 1000 },
    },
  });
  assert.match(
    predictionSentences(confirmed),
    /^The measurement confirmed the prediction within its tolerance \(tolerance 0 ms early, 1 s late\): released at 2 min \(keepalive\); predicted: released by the kernel alone at 2 min \(keepalive\)\.$/,
  );
  confirmed.measurements.releaseMs = 60_000;
  confirmed.measurements.releasedHow = "server-fin";
  assert.match(
    predictionSentences(confirmed),
    /^The prediction did not hold: it would have been released by the kernel alone at 2 min \(keepalive\) .*; the server itself acted instead: released at 60 s \(FIN\)\./,
  );
  const held = scenario({ measurements: { releasedHow: "never" }, prediction: NEVER });
  assert.match(
    predictionSentences(held),
    /^Prediction \(not measured; .*\): never by the kernel alone/,
  );
});
