import assert from "node:assert/strict";
import { CHART_FILE, renderReleaseChart } from "./release_chart.ts";
import type { Results } from "../results/schema.ts";
import { validateResults } from "../results/validate_results.ts";
import { renderIndex } from "./index_report.ts";
import { GITHUB_COLUMN_PX, tableWidthPx } from "./markdown_parts.ts";
import { renderTargetReport } from "./target_report.ts";
import { SAMPLE } from "./testdata/sample_results.ts";

function tablesLineUp(markdown: string): void {
  const blocks = markdown.split("\n\n").filter((b) => b.startsWith("|"));
  assert(blocks.length > 0);
  for (const block of blocks) {
    // Escaped pipes inside cells are not column separators.
    const widths = block.split("\n").filter(Boolean).map((l) =>
      l.replaceAll("\\|", "").split("|").length
    );
    assert(widths.every((w) => w === widths[0]), `table columns line up:\n${block}`);
  }
}

Deno.test("target report: the kernel's CONFIG_HZ beside its release, only when recorded", () => {
  assert.doesNotMatch(renderTargetReport(SAMPLE), /CONFIG_HZ/);
  const withHz = structuredClone(SAMPLE);
  withHz.environment.kernelHz = 250;
  const md = renderTargetReport(withHz);
  assert.match(md, /^- \*\*Run:\*\* .*, kernel 6\.18\.44 \(CONFIG_HZ=250\), clientdown /m);
  // Nothing else changes.
  assert.equal(md.replace(" (CONFIG_HZ=250)", ""), renderTargetReport(SAMPLE));
  assert.equal(validateResults(withHz).ok, true);
  assert.equal(
    validateResults({ ...withHz, environment: { ...withHz.environment, kernelHz: 0 } }).ok,
    false,
  );
});

Deno.test("target report: metadata, summary, scenario table and sections", () => {
  const md = renderTargetReport(SAMPLE);
  assert.match(md, /^# clientdown conformance report: ref-hardened\n/);
  assert.match(md, /^- \*\*Server:\*\* Reference server, hardened, version 0\.1\.0$/m);
  assert.match(md, /kernel 6\.18\.44/);
  assert.match(md, /^\*\*Three time limits\.\*\* .*budget.*deadline.*prediction/m);
  // pass, info, skip, warn, inconclusive, fail, error, then MUST and SHOULD passed.
  assert.match(md, /\| ✅ \| ℹ️ \| ⏭️ \| ⚠️ \| ❓ \| ❌ \| 💥 \| MUST passed \| SHOULD passed \|/);
  assert.match(md, /\| 1 \| 0 \| 1 \| 0 \| 0 \| 0 \| 0 \| — \| 1 \/ 1 \|/);
  assert.match(
    md,
    /\[vanish\/idle\]\(#vanishidle\) \| SHOULD \| ✅\u00a0pass \| released at 5 s by kernel keepalive \|/,
  );
  assert.match(md, /^### vanish\/idle\n\n\*\*Idle connection \\\| client host vanishes\*\*$/m);
  assert.match(md, /\| released within 10 min \| SHOULD \| ✅\u00a0pass \| 5 s \|/);
  assert.match(
    md,
    /^Measured: released at 5 s \(keepalive\)\. Predicted from the socket options and sysctls: released by the kernel alone 5 s after the last traffic \(keepalive\) \(no tolerance to judge the two by\)\.$/m,
  );
  const confirmed = structuredClone(SAMPLE);
  confirmed.scenarios[0]!.prediction!.toleranceMs = { early: 0, late: 100 };
  assert.match(
    renderTargetReport(confirmed),
    /^The measurement confirmed the prediction within its tolerance \(tolerance 0 ms early, 100 ms late\): released at 5 s \(keepalive\); predicted: released by the kernel alone 5 s after the last traffic \(keepalive\)\.$/m,
  );
  assert.match(md, /<details><summary>Timeline<\/summary>\n\n```mermaid\n/);
  assert.match(md, /Unsupported on this kernel/);
  assert.doesNotMatch(md, /Harness note/);
  tablesLineUp(md);
});

Deno.test("target report: a contradicted prediction says what acted; harness notes stand apart", () => {
  const r = structuredClone(SAMPLE);
  const s = r.scenarios[0]!;
  s.measurements = { releaseMs: 75_100, releasedHow: "server-fin" };
  s.prediction = {
    predicted: true,
    releaseMs: null,
    from: "last-traffic",
    mechanism: "none: SO_KEEPALIVE is off: nothing probes an idle connection",
    how: "never",
    reason: "SO_KEEPALIVE is off: nothing probes an idle connection",
    neverBecause: "SO_KEEPALIVE is off",
  };
  s.harnessNotes = "A helper of the test harness did not stop cleanly.";
  const md = renderTargetReport(r);
  assert.match(
    md,
    /^The kernel alone would never have ended it \(SO_KEEPALIVE is off\); the server itself did: released at 75\.1 s \(FIN\)\.$/m,
  );
  assert.doesNotMatch(md, /never released by none/);
  assert.match(
    md,
    /^> \*\*Harness note\*\* \(trouble of the test harness itself; it says nothing about the server\): A helper/m,
  );
  assert.match(md, /^\*\*Harness notes:\*\* 1 of 2 scenarios carries a note/m);
  const row = md.split("\n").find((l) => l.startsWith("| [vanish/idle]"));
  assert.equal(
    row,
    "| [vanish/idle](#vanishidle) | SHOULD | ✅\u00a0pass | released at 75.1 s by the server's FIN |",
  );
});

Deno.test("target report is a pure function of the results", () => {
  const copy = structuredClone(SAMPLE);
  assert.equal(renderTargetReport(copy), renderTargetReport(SAMPLE));
});

Deno.test("index: a summary per target, then targets × families, icons linking to sections", () => {
  const other = structuredClone(SAMPLE);
  other.target = { id: "ref-naive", version: "0.1.0" };
  other.scenarios[0]!.verdict = "warn";
  const variant = structuredClone(SAMPLE);
  variant.target = { id: "aa@tuned", version: "1" };
  const stock = structuredClone(SAMPLE);
  stock.target = { id: "aa", version: "1" };
  const md = renderIndex([SAMPLE, other, variant, stock], { chartPath: "releases.svg" });
  // Verdicts in the one order; no column for those no target had (pass, warn, fail always).
  assert.match(md, /\| Target \| Version \| ✅ \| ⏭️ \| ⚠️ \| ❌ \|/);
  assert.match(
    md,
    /no column where no target had one: ℹ️\u00a0info, ❓\u00a0inconclusive, 💥\u00a0error/,
  );
  // Stock target, its variant, then the reference servers.
  const rows = md.split("\n").filter((l) => l.startsWith("| [")).slice(0, 4).map((l) =>
    l.split("]")[0]
  );
  assert.deepEqual(rows, ["| [aa", "| [aa@tuned", "| [ref-hardened", "| [ref-naive"]);
  assert.match(md, /\| Target \| vanish \| freeze \|/);
  assert.match(
    md,
    /\| \[ref-naive\]\(ref-naive\.md\) \| \[⚠️\]\(ref-naive\.md#vanishidle "vanish\/idle: warn"\) \| \[⏭️\]\(ref-naive\.md#freezezero-window "freeze\/zero-window: skip"\) \|/,
  );
  assert.match(md, /^- \*\*vanish\*\*: idle \(SHOULD\)$/m);
  assert.match(md, /^- ❌ fail: a MUST broken\. Whatever the scenario's level/m);
  assert.match(md, /\[releases\.svg\]\(releases\.svg\)/);
  assert.match(md, /^!\[Release times across servers\]\(releases\.svg\)$/m);
  assert.doesNotMatch(renderIndex([SAMPLE]), /releases\.svg/);
  tablesLineUp(md);
});

Deno.test("index: 57 configurations with long ids and versions still fit GitHub's column", () => {
  const all = Array.from({ length: 57 }, (_, i) => {
    const r = structuredClone(SAMPLE);
    const id = i % 3 ? `server-${i}@transaction-idle-timeout-${i}` : `server-${i}`;
    r.target = { id, version: `10.11.19-MariaDB-0+deb12u1-extra-long-${i}` };
    return r;
  });
  const md = renderIndex(all);
  const blocks = md.split("\n\n").filter((b) => b.startsWith("|"));
  for (const block of blocks) {
    assert(tableWidthPx(block) <= GITHUB_COLUMN_PX, `fits: ${block.split("\n")[0]}`);
  }
  // The versions were cut to fit; every target still has its row.
  assert.match(md, /\| 10\.11\.19-MariaDB[^|]*… \|/);
  assert.equal(md.split("\n").filter((l) => l.startsWith("| [server-")).length, 57 * 2);
});

Deno.test("the published Markdown is what the renderers make of the published JSON, byte for byte", async () => {
  const reports = new URL("../../reports/", import.meta.url);
  const all: Results[] = [];
  for (const entry of [...Deno.readDirSync(reports)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.name.endsWith(".json") || entry.name === "index.json") continue;
    const check = validateResults(
      JSON.parse(await Deno.readTextFile(new URL(entry.name, reports))),
    );
    assert(check.ok, entry.name);
    all.push(check.results);
    const md = await Deno.readTextFile(new URL(entry.name.replace(/\.json$/, ".md"), reports));
    assert.equal(renderTargetReport(check.results), md, `${entry.name}: run \`deno task report\``);
  }
  assert(all.length > 0);
  const chart = await renderReleaseChart(all);
  assert.equal(chart, await Deno.readTextFile(new URL(CHART_FILE, reports)));
  assert.equal(
    renderIndex(all, { chartPath: CHART_FILE }),
    await Deno.readTextFile(new URL("README.md", reports)),
  );
});

Deno.test("an interrupted run: its scenarios show why, the summary counts them, the header says so", () => {
  const r = structuredClone(SAMPLE);
  r.environment.interrupted = { signal: "SIGINT", finished: 2, planned: 9 };
  r.scenarios[0]!.verdict = "interrupted";
  r.scenarios[0]!.notes = "Interrupted: SIGINT. The run was stopped.";
  r.scenarios[0]!.expectations = [{
    kind: "released",
    level: "SHOULD",
    expectation: "released within 10 min",
    budgetMs: 600000,
    verdict: "interrupted",
    measured: "—",
  }];
  const md = renderTargetReport(r);
  assert.match(
    md,
    /^\*\*Interrupted\*\* by SIGINT: 2 of 9 scenarios finished; the rest were not run\.$/m,
  );
  assert.match(md, /\| ⏹️\u00a0interrupted \|/);
  assert.match(
    md,
    /\| \[vanish\/idle\]\(#[^)]+\) \| SHOULD \| ⏹️\u00a0interrupted \| Interrupted: SIGINT\. \|/,
  );
  tablesLineUp(md);
  assert.doesNotMatch(renderTargetReport(SAMPLE), /interrupted/);
});
