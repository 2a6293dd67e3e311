/**
 * Renders every published results file (`reports/*.json`) and the index, and checks what a
 * reader relies on that can be checked from the Markdown: tables narrow enough for GitHub's
 * column, only known verdict icons with one vocabulary, the same scenario order in index and
 * reports, every anchor the index links to, timelines short enough to read, no harness trouble
 * in a verdict, key figures that state an outcome, the chart (when there is one) well-formed,
 * and the same bytes on a second run.
 *
 * @module
 */

import assert from "node:assert/strict";
import MarkdownIt from "markdown-it";
import type { Results, Verdict } from "../results/schema.ts";
import { validateResults } from "../results/validate_results.ts";
import { renderIndex } from "./index_report.ts";
import { GITHUB_COLUMN_PX, tableWidthPx, VERDICT_ICON, VERDICT_ORDER } from "./markdown_parts.ts";
import { renderTargetReport } from "./target_report.ts";
import { parseXml } from "./testdata/parse_xml.ts";

const REPORTS = new URL("../../reports/", import.meta.url);
const CHART = "releases.svg";

/**
 * The most columns a table may have. The widest table meant is the index summary: target,
 * version and a count per verdict (eight verdicts): 10. At GitHub's 16 px with 13 px of padding
 * on each side of a cell, more columns leave too little room for anything but single icons.
 */
const MAX_COLUMNS = 10;
/** The most events (Mermaid messages and notes) a timeline may draw (issue 11). */
const MAX_EVENTS = 25;

function load(): Results[] {
  const all: Results[] = [];
  for (const entry of [...Deno.readDirSync(REPORTS)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.name.endsWith(".json") || entry.name === "index.json") continue;
    const check = validateResults(JSON.parse(Deno.readTextFileSync(new URL(entry.name, REPORTS))));
    assert(check.ok, `${entry.name} is a valid results file`);
    all.push(check.results);
  }
  assert(all.length > 0, "reports/ holds results files");
  return all;
}

function chartExists(): boolean {
  try {
    return Deno.statSync(new URL(CHART, REPORTS)).isFile;
  } catch {
    return false;
  }
}

const ALL = load();
const INDEX = renderIndex(ALL, chartExists() ? { chartPath: CHART } : {});
const REPORT = new Map(ALL.map((r) => [r.target.id, renderTargetReport(r)]));
const parser = new MarkdownIt({ html: true });

/** A table as rendered: its header cells and rows of cells (text, and the links in each cell). */
interface Table {
  header: string[];
  rows: { text: string; links: { href: string; title: string; text: string }[] }[][];
}

/** The tables of a document, parsed as GitHub-flavoured Markdown (markdown-it, tables on). */
function tables(markdown: string): Table[] {
  const out: Table[] = [];
  let current: Table | undefined;
  let inHead = false;
  let row: Table["rows"][number] | undefined;
  for (const token of parser.parse(markdown, {})) {
    if (token.type === "table_open") current = { header: [], rows: [] };
    else if (token.type === "table_close" && current) out.push(current), current = undefined;
    else if (token.type === "thead_open") inHead = true;
    else if (token.type === "thead_close") inHead = false;
    else if (token.type === "tr_open" && !inHead) row = [];
    else if (token.type === "tr_close" && row && current) current.rows.push(row), row = undefined;
    else if (token.type === "inline" && current) {
      const links: Table["rows"][number][number]["links"] = [];
      let text = "";
      let open: { href: string; title: string; text: string } | undefined;
      for (const child of token.children ?? []) {
        if (child.type === "link_open") {
          open = {
            href: String(child.attrGet("href") ?? ""),
            title: String(child.attrGet("title") ?? ""),
            text: "",
          };
        } else if (child.type === "link_close" && open) links.push(open), open = undefined;
        else if (child.type === "text" || child.type === "code_inline") {
          text += child.content;
          if (open) open.text += child.content;
        }
      }
      if (inHead) current.header.push(text);
      else row?.push({ text, links });
    }
  }
  return out;
}

const ANCHORS = new Map<string, Set<string>>();
/** The anchors GitHub gives a document's headings (github-slugger's rule, duplicates numbered). */
function anchors(markdown: string): Set<string> {
  const known = ANCHORS.get(markdown);
  if (known) return known;
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const tokens = parser.parse(markdown, {});
  tokens.forEach((token, i) => {
    if (token.type !== "heading_open") return;
    const text = (tokens[i + 1]?.children ?? []).filter((c) =>
      c.type === "text" || c.type === "code_inline"
    ).map((c) => c.content).join("");
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  });
  ANCHORS.set(markdown, out);
  return out;
}

/** The Mermaid diagrams of a document. */
function diagrams(markdown: string): string[] {
  return parser.parse(markdown, {}).filter((t) => t.type === "fence" && t.info === "mermaid")
    .map((t) => t.content);
}

const ICONS = new Set(Object.values(VERDICT_ICON));
/** A verdict cell: icon, no-break space, word. */
const BADGE = new Map(VERDICT_ORDER.map((v) => [`${VERDICT_ICON[v]}\u00a0${v}`, v]));
/** Every pictograph a document may show outside code: the verdict icons and the "not run" dot. */
const PICTOGRAPH = /\p{Extended_Pictographic}\uFE0F?/gu;

/** Key figures of the forms issue 11 names, and "expectation: measured" glued together. */
const FORBIDDEN_KEY_FIGURES = [
  /by keepalive: keepalive:/,
  /\(server closed \(FIN\)\)/,
  /never released by none/,
  /released within ([^:]+): not released within \1/,
  /^(released within|connection survives|other clients served|server keeps running|fds and memory back to baseline|response delivered)[^:]*: /,
];
const HARNESS_TEXT = /ClientAgentError|No packet capture|Teardown:/;

Deno.test("published reports and index: no table wider than the column allows", () => {
  for (const [name, markdown] of [["README.md", INDEX], ...REPORT] as const) {
    for (const t of tables(markdown)) {
      assert(
        t.header.length <= MAX_COLUMNS,
        `${name}: a table of ${t.header.length} columns (at most ${MAX_COLUMNS}): ${t.header}`,
      );
    }
  }
  // The index's tables hold icons and names that cannot wrap: each must fit as it is.
  const blocks = INDEX.split("\n\n").filter((b) => b.startsWith("|"));
  assert(blocks.length >= 2);
  for (const block of blocks) {
    const px = tableWidthPx(block);
    assert(px <= GITHUB_COLUMN_PX, `index table ${Math.round(px)} px: ${block.split("\n")[0]}`);
  }
});

Deno.test("published reports and index: only known verdict icons, one vocabulary", () => {
  for (const [name, markdown] of [["README.md", INDEX], ...REPORT] as const) {
    const prose = markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1$/gm, "");
    for (const [p] of prose.matchAll(PICTOGRAPH)) {
      assert(ICONS.has(p) || ICONS.has(`${p}\uFE0F`), `${name}: unknown pictograph "${p}"`);
    }
    assert(!markdown.includes("❔"), `${name}: the pale ❔ is gone`);
    for (const t of tables(markdown)) {
      // Verdict columns say icon and word, in the one pairing.
      const col = t.header.indexOf("Verdict");
      if (col >= 0) {
        for (const row of t.rows) {
          const cell = row[col]?.text ?? "";
          assert(BADGE.has(cell), `${name}: verdict cell "${cell}"`);
        }
      }
      // Counts per verdict: icon headers, in the one verdict order.
      const icons = t.header.filter((h) => ICONS.has(h));
      const order = icons.map((h) => VERDICT_ORDER.find((v) => VERDICT_ICON[v] === h));
      assert.deepEqual(
        order,
        VERDICT_ORDER.filter((v) => order.includes(v)),
        `${name}: verdict columns in the one order`,
      );
    }
    // The legend: one line per verdict, "icon word: meaning", in the one order.
    const legend = [...markdown.matchAll(/^- (\S+) (\w+): /gm)]
      .filter(([, i]) => ICONS.has(i ?? ""))
      .map(([, i, w]) => [i, w] as const);
    assert(legend.length >= 7, `${name}: a legend`);
    for (const [i, w] of legend) assert.equal(VERDICT_ICON[w as Verdict], i, `${name}: ${i} ${w}`);
    assert.deepEqual(
      legend.map(([, w]) => w),
      VERDICT_ORDER.filter((v) => legend.some(([, w]) => w === v)),
    );
  }
  // Matrix icons: each link's icon is its title's verdict.
  for (const t of tables(INDEX)) {
    for (const row of t.rows) {
      for (const cell of row.slice(1)) {
        for (const l of cell.links) {
          const verdict = /^[a-z0-9-]+\/[a-z0-9-]+: ([a-z]+)$/.exec(l.title)?.[1] as Verdict;
          assert.equal(l.text, VERDICT_ICON[verdict], `index icon "${l.text}" for "${l.title}"`);
        }
      }
    }
  }
});

Deno.test("published reports and index: the same scenario order, and every linked anchor exists", () => {
  const order = new Map<string, string[]>();
  for (const t of tables(INDEX)) {
    if (t.header[0] !== "Target" || t.header[1] === "Version") continue;
    for (const row of t.rows) {
      const target = row[0]?.links[0]?.text ?? "";
      const ids = row.slice(1).flatMap((c) => c.links.map((l) => l.title.split(": ")[0] ?? ""));
      order.set(target, [...order.get(target) ?? [], ...ids]);
      for (const c of row.slice(1)) {
        for (const l of c.links) {
          const [file = "", hash = ""] = l.href.split("#");
          const report = REPORT.get(decodeURI(file).replace(/\.md$/, ""));
          assert(report, `index links to a report: ${l.href}`);
          assert(anchors(report).has(hash), `index link ${l.href}: the anchor exists`);
        }
      }
    }
  }
  assert.equal(order.size, ALL.length, "one matrix row per target");
  for (const r of ALL) {
    const report = REPORT.get(r.target.id)!;
    const scenarioTable = tables(report).find((t) => t.header[0] === "Scenario");
    assert(scenarioTable, `${r.target.id}: a scenario table`);
    const ids = scenarioTable.rows.map((row) => row[0]?.links[0]?.text ?? "");
    assert.deepEqual(order.get(r.target.id), ids, `${r.target.id}: the index's order`);
    const own = anchors(report);
    for (const row of scenarioTable.rows) {
      const href = row[0]?.links[0]?.href ?? "";
      assert(own.has(href.slice(1)), `${r.target.id}: ${href} exists`);
    }
  }
});

Deno.test("published reports: every timeline draws at most 25 events", () => {
  const over: string[] = [];
  for (const [id, markdown] of REPORT) {
    for (const d of diagrams(markdown)) {
      const events = d.split("\n").filter((l) =>
        /^\s*Note\s/.test(l) || /^\s*\w+\s*--?(>>|>|x|\))[+-]?\s*\w+\s*:/.test(l)
      ).length;
      if (events > MAX_EVENTS) {
        over.push(`${id}: ${events}`);
      }
    }
  }
  assert.deepEqual(over, [], `timelines over ${MAX_EVENTS} events`);
});

Deno.test("published reports: no harness trouble in a verdict, key figures state an outcome", () => {
  for (const [id, markdown] of REPORT) {
    for (const t of tables(markdown)) {
      const verdict = t.header.indexOf("Verdict");
      if (verdict < 0) continue;
      for (const row of t.rows) {
        for (const cell of row) {
          assert.doesNotMatch(cell.text, HARNESS_TEXT, `${id}: harness text in a verdict table`);
        }
      }
      const key = t.header.indexOf("Key figure");
      if (key < 0) continue;
      for (const row of t.rows) {
        const figure = row[key]?.text ?? "";
        for (const bad of FORBIDDEN_KEY_FIGURES) {
          assert.doesNotMatch(figure, bad, `${id}: key figure "${figure}"`);
        }
      }
    }
  }
});

Deno.test("published results: no verdict its own figures contradict", () => {
  const contradictions = ALL.flatMap((r) =>
    r.scenarios.flatMap((s) =>
      s.expectations.filter((e) =>
        (e.verdict === "pass" || e.verdict === "info") && e.actual?.ms !== undefined &&
        e.budgetMs !== undefined && e.actual.ms > e.budgetMs
      ).map((e) => `${r.target.id} ${s.id}: ${e.verdict} ${e.expectation} (${e.actual?.ms} ms)`)
    )
  );
  assert.deepEqual(contradictions, []);
});

/** A report without its code blocks (a server's own stderr and log, Mermaid aside). */
function prose(markdown: string): string {
  return markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1$/gm, "");
}

/** The Mermaid blocks of a report. */
function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
}

/** Each scenario's section of a report, by id. */
function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of markdown.split(/^### /m).slice(1)) {
    out.set(part.slice(0, part.indexOf("\n")).trim(), part);
  }
  return out;
}

const README = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));

Deno.test("published reports: no prediction after an observation that settles the question", () => {
  const late: string[] = [];
  for (const r of ALL) {
    const parts = sections(REPORT.get(r.target.id) ?? "");
    for (const s of r.scenarios) {
      const release = s.expectations.find((e) => e.kind === "released" || e.kind === "released-by");
      const survived = s.expectations.some((e) => e.actual?.survived !== undefined);
      const shown = parts.get(s.id)?.includes("Prediction (not measured") ?? false;
      if (shown && (!release || survived)) late.push(`${r.target.id} ${s.id}`);
    }
  }
  assert.deepEqual(late, []);
});

Deno.test("published reports: one watched time per scenario, consistent with budget and deadline", () => {
  for (const r of ALL) {
    const markdown = REPORT.get(r.target.id) ?? "";
    assert.doesNotMatch(markdown, /the whole [^|]* watched/, r.target.id);
    const parts = sections(markdown);
    for (const s of r.scenarios) {
      const budget = s.expectations.find((e) => e.kind === "released")?.budgetMs;
      for (
        const [, figure] of (parts.get(s.id) ?? "").matchAll(/within the watch of ([^,;.|)]+)/g)
      ) {
        const [n = "", unit = ""] = (figure ?? "").split(" ");
        const ms = Number(n) * ({ ms: 1, s: 1000, min: 60_000 }[unit] ?? NaN);
        assert(budget === undefined || ms < budget, `${r.target.id} ${s.id}: ${figure} watched`);
      }
    }
  }
  assert.match(README, new RegExp(`up to ${ALL[0]!.environment.deadlineMs / 60_000} minutes`));
  for (const r of ALL) assert.equal(r.environment.deadlineMs, ALL[0]!.environment.deadlineMs);
});

Deno.test("published reports and README: no internals, no release at 0 ms, no label cut mid-word", () => {
  const all: [string, string][] = [["README.md", README], ["reports/README.md", INDEX], ...REPORT];
  for (const [name, markdown] of all) {
    const text = prose(markdown);
    assert.doesNotMatch(text, /released at 0 ms|after 0 ms/, name);
    assert.doesNotMatch(text, /\b[A-Z][A-Za-z]*Error:/, `${name}: an error class`);
    assert.doesNotMatch(text, /\bagents?\b|\bGONE\b/, `${name}: an internal word`);
    for (const block of mermaidBlocks(markdown)) {
      assert.doesNotMatch(block, /\p{L}…/u, `${name}: a Mermaid label cut mid-word`);
      assert.doesNotMatch(block, /\bGONE\b|\bagent\b/, `${name}: an internal word in a timeline`);
    }
  }
});

Deno.test("published timelines: zero is the fault, one step at or after it", () => {
  for (const r of ALL) {
    for (const s of r.scenarios) {
      const faults = s.evidence.filter((e) => e.kind === "fault");
      assert(faults.length <= 1, `${r.target.id} ${s.id}: ${faults.length} fault steps`);
      for (const f of faults) assert(f.atMs >= 0, `${r.target.id} ${s.id}: fault at ${f.atMs} ms`);
    }
  }
});

Deno.test("README: every table fits GitHub's column", () => {
  const blocks = README.split("\n\n").filter((b) => b.startsWith("|"));
  assert(blocks.length >= 1);
  for (const block of blocks) {
    const px = tableWidthPx(block);
    assert(px <= GITHUB_COLUMN_PX, `README table ${Math.round(px)} px: ${block.split("\n")[0]}`);
  }
});

Deno.test("published chart: well-formed SVG, when there is one", () => {
  if (!chartExists()) return;
  const root = parseXml(Deno.readTextFileSync(new URL(CHART, REPORTS)));
  assert.equal(root.name, "svg");
  assert.match(INDEX, /\]\(releases\.svg\)/);
});

Deno.test("published reports and index: the same bytes on a second run", async () => {
  // The renderers: twice on the same input.
  for (const r of ALL) {
    assert.equal(renderTargetReport(structuredClone(r)), REPORT.get(r.target.id));
  }
  assert.equal(renderIndex(structuredClone(ALL), chartExists() ? { chartPath: CHART } : {}), INDEX);
  // The command: `report` twice over a copy of the results, every file byte for byte.
  const dir = await Deno.makeTempDir({ prefix: "clientdown-report-" });
  try {
    for (const entry of Deno.readDirSync(REPORTS)) {
      if (entry.name.endsWith(".json") && entry.name !== "index.json") {
        await Deno.copyFile(new URL(entry.name, REPORTS), `${dir}/${entry.name}`);
      }
    }
    const run = async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "mod.ts", "report", "--out", dir],
        cwd: new URL("../../", import.meta.url),
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const files = new Map<string, Uint8Array>();
      for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
        files.set(entry.name, await Deno.readFile(`${dir}/${entry.name}`));
      }
      return files;
    };
    const first = await run();
    const second = await run();
    assert.deepEqual([...second.keys()], [...first.keys()]);
    for (const [name, bytes] of first) assert.deepEqual(second.get(name), bytes, name);
    assert(first.has("README.md"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
