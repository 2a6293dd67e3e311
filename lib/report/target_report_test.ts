import assert from "node:assert/strict";
import type { Results } from "../results/schema.ts";
import { validateResults } from "../results/validate_results.ts";
import { renderIndex } from "./index_report.ts";
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

Deno.test("target report: metadata, summary, scenario table and sections", () => {
  const md = renderTargetReport(SAMPLE);
  assert.match(md, /^# clientdown conformance report: Reference server, hardened \(ref-hardened\)/);
  assert.match(md, /\| Kernel \| 6\.18\.44 \|/);
  assert.match(md, /\| 1 \| 0 \| 1 \| 0 \| 0 \| 0 \| 0 \| — \| 1 \/ 1 \|/); // pass, info, skip ... MUST, SHOULD
  assert.match(md, /\[vanish\/idle\]\(#vanishidle-idle-connection--client-host-vanishes\)/);
  assert.match(md, /released after 5 s \(kernel keepalive timeout\)/);
  assert.match(
    md,
    /Prediction \(from the socket options .*not measured\): released 5 s after the last traffic/,
  );
  assert.match(md, /S->>C: keepalive probe ×2 \(\+2 s … \+3 s\)/);
  assert.match(md, /S-xC: RST \(\+5 s\)/);
  assert.match(md, /Unsupported on this kernel/);
  tablesLineUp(md);
});

Deno.test("target report is a pure function of the results", () => {
  const copy = structuredClone(SAMPLE);
  assert.equal(renderTargetReport(copy), renderTargetReport(SAMPLE));
});

Deno.test("index: one row per scenario, one column per target", () => {
  const other = structuredClone(SAMPLE);
  other.target = { id: "ref-naive", version: "0.1.0" };
  other.scenarios[0]!.verdict = "warn";
  const md = renderIndex([SAMPLE, other]);
  assert.match(
    md,
    /\| Scenario \| Level \| \[ref-hardened\]\(ref-hardened\.md\) \| \[ref-naive\]\(ref-naive\.md\) \|/,
  );
  assert.match(md, /\| vanish\/idle \| SHOULD \| ✅ pass \| ⚠️ warn \|/);
  tablesLineUp(md);
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
  assert.equal(renderIndex(all), await Deno.readTextFile(new URL("README.md", reports)));
});

Deno.test("an interrupted run: its scenarios show why, the summary counts them, the header says so", () => {
  const r = structuredClone(SAMPLE);
  r.environment.interrupted = { signal: "SIGINT", finished: 2, planned: 9 };
  r.scenarios[0]!.verdict = "interrupted";
  r.scenarios[0]!.notes = "Interrupted: SIGINT. The run was stopped.";
  r.scenarios[0]!.expectations = [{
    expectation: "released within 10 min",
    verdict: "interrupted",
    measured: "—",
  }];
  const md = renderTargetReport(r);
  assert.match(
    md,
    /^\*\*Interrupted\*\* by SIGINT: 2 of 9 scenarios finished; the rest were not run\.$/m,
  );
  assert.match(md, /\| ⏹️ interrupted \|/);
  assert.match(
    md,
    /\| \[vanish\/idle\]\(#[^)]+\) \| SHOULD \| ⏹️ interrupted \| Interrupted: SIGINT\. \|/,
  );
  tablesLineUp(md);
  assert.doesNotMatch(renderTargetReport(SAMPLE), /interrupted/);
});
