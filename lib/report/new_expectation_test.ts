/**
 * An expectation kind added as its verifier, its test and one registry line reaches every
 * renderer with its budget, with no renderer change: `releasedBy`, judged, shows its budget in
 * the Markdown report, JUnit, the chart and the diff.
 */
import assert from "node:assert/strict";
import type { ExpectationResult, Results } from "../results/schema.ts";
import { diffResults, formatDiff } from "../results/diff.ts";
import { makeResults } from "../results/testdata/make_results.ts";
import { expectations, verifierOf } from "../evaluate/verifiers/registry.ts";
import { renderJunit } from "./junit.ts";
import { chartData } from "./release_chart.ts";
import { renderTargetReport } from "./target_report.ts";

/** The result evaluation writes for `releasedBy` met after `ms` by the server's FIN. */
function releasedByResult(ms: number): ExpectationResult {
  const e = expectations.releasedBy({ how: ["server-fin", "server-rst"], within: "2m" });
  const verifier = verifierOf(e.kind)!;
  return {
    kind: e.kind,
    expectation: verifier.describe(e),
    level: "SHOULD",
    budgetMs: verifier.budgetMs(e)!,
    verdict: ms <= 120_000 ? "pass" : "warn",
    actual: { ms, how: "server-fin" },
    measured: `after ${ms} ms, by server-fin`,
  };
}

function results(ms: number): Results {
  const r = makeResults("nginx", { "vanish/idle": ms <= 120_000 ? "pass" : "warn" });
  r.scenarios[0]!.expectations = [releasedByResult(ms)];
  r.scenarios[0]!.measurements = { releaseMs: ms, releasedHow: "server-fin" };
  return r;
}

Deno.test("a new expectation kind: its budget in Markdown, JUnit, chart and diff", () => {
  const before = results(75_100);
  assert.equal(before.scenarios[0]!.expectations[0]!.budgetMs, 120_000);
  const budget = "released by server-fin or server-rst within 2 min";
  assert.match(renderTargetReport(before), new RegExp(`\\| ${budget} \\| SHOULD \\|`));
  assert.match(renderJunit([before]), new RegExp(`pass ${budget}: after 75100 ms`));
  assert.equal(chartData([before]).panels[0]?.budgetMs, 120_000);
  const after = results(180_000);
  assert.match(formatDiff(diffResults([before], [after])), new RegExp(`${budget}: 75.1 s → 3 min`));
});
