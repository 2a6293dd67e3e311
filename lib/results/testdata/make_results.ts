/**
 * Small, valid results for tests of the CI outputs (JUnit, index, merge, diff): one target,
 * chosen verdicts, with figures that the tests can change.
 *
 * @module
 */

import type { Results, ScenarioResult, Verdict } from "../schema.ts";

/** One scenario's result with `verdict`; `fields` replaces fields. */
export function makeScenario(
  id: string,
  verdict: Verdict,
  fields: Partial<ScenarioResult> = {},
): ScenarioResult {
  return {
    id,
    title: `Title of ${id}`,
    requirement: `A server does the right thing in ${id}`,
    level: "MUST",
    refs: ["RFC 9293 §3.8.4"],
    phase: "idle",
    verdict,
    measurements: { releaseMs: 5012, releasedHow: "keepalive-timeout" },
    expectations: [{
      kind: "released",
      expectation: "released within 10 min",
      level: "SHOULD",
      budgetMs: 600000,
      verdict,
      measured: "after 5 s",
    }],
    evidence: [{ atMs: 0, actor: "harness", kind: "step", what: "fault" }],
    notes: verdict === "error" ? "The target did not start" : "",
    durationMs: 5600,
    ...fields,
  };
}

/** A results file of `target` with one scenario per entry of `verdicts` (id → verdict). */
export function makeResults(
  target: string,
  verdicts: Record<string, Verdict>,
  environment: Partial<Results["environment"]> = {},
): Results {
  return {
    schema: "clientdown/results@2",
    target: { id: target, title: `Server ${target}`, version: "1.0.0" },
    environment: {
      kernel: "6.18.0",
      startedAt: "2026-11-24T01:00:00.000Z",
      durationMs: 6000,
      deadlineMs: 60_000,
      concurrency: 8,
      clientdown: "0.1.0",
      ...environment,
    },
    scenarios: Object.entries(verdicts).map(([id, v]) => makeScenario(id, v)),
  };
}
