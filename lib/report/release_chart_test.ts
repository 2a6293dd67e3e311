import assert from "node:assert/strict";
import { join } from "node:path";
import { readResultsDir, rebuildReports } from "../cli/report_files.ts";
import type { Results, ScenarioResult } from "../results/schema.ts";
import { makeResults, makeScenario } from "../results/testdata/make_results.ts";
import {
  budgetOf,
  CHART_FILE,
  CHART_SCENARIOS,
  chartData,
  chartPoint,
  releaseChartVega,
  renderReleaseChart,
} from "./release_chart.ts";
import { elements, parseXml, type XmlElement } from "./testdata/parse_xml.ts";

const REPORTS = new URL("../../reports/", import.meta.url).pathname;

/** Every element of the tree, in document order. */
function all(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(all)];
}

/** The text of every `<text>` element (vega writes one line per `<tspan>` or the text itself). */
function texts(root: XmlElement): string[] {
  return elements(root, "text").map((t) =>
    t.children.length ? t.children.map((c) => c.text).join(" ") : t.text
  );
}

/** The marks that stand for a target in a scenario: "<scenario>, <target>: ...". */
function marks(root: XmlElement): Map<string, number> {
  const count = new Map<string, number>();
  for (const e of all(root)) {
    const label = e.attributes["aria-label"];
    const m = label === undefined ? null : /^([a-z0-9-]+\/[a-z0-9-]+), (\S+): /.exec(label);
    if (m) count.set(`${m[1]} ${m[2]}`, (count.get(`${m[1]} ${m[2]}`) ?? 0) + 1);
  }
  return count;
}

function scenario(id: string, fields: Partial<ScenarioResult>): ScenarioResult {
  return makeScenario(id, "pass", {
    expectations: [{
      kind: "released",
      level: "SHOULD",
      expectation: "released within 11 min",
      budgetMs: 660000,
      verdict: "pass",
      measured: "",
    }],
    ...fields,
  });
}

function target(id: string, scenarios: ScenarioResult[], deadlineMs = 900_000): Results {
  return { ...makeResults(id, {}, { deadlineMs }), scenarios };
}

/** One target of each kind of mark, in two charted scenarios. */
function sample(): Results[] {
  const prediction = {
    predicted: true as const,
    from: "last-traffic",
    watchedMs: 660_000,
  };
  return [
    target("srv-a", [
      scenario("vanish/idle", {
        measurements: { releaseMs: 75_000, releasedHow: "server-fin" },
      }),
      scenario("freeze/stops-reading", {
        measurements: { releaseMs: 60_000, releasedHow: "server-fin" },
      }),
    ]),
    target("srv-b", [
      scenario("vanish/idle", {
        verdict: "warn",
        measurements: {},
        prediction: {
          ...prediction,
          releaseMs: 7_875_000,
          atMs: 7_874_800,
          mechanism: "keepalive: idle 7200 s",
          how: "keepalive-timeout",
        },
      }),
      scenario("freeze/stops-reading", { verdict: "skip", measurements: {} }),
    ]),
    target("srv-c", [
      scenario("vanish/idle", {
        verdict: "warn",
        measurements: { releasedHow: "never" },
        prediction: {
          ...prediction,
          releaseMs: null,
          mechanism: "none: SO_KEEPALIVE is off",
          how: "never",
          reason: "SO_KEEPALIVE is off",
          neverBecause: "SO_KEEPALIVE is off",
        },
      }),
      scenario("freeze/stops-reading", {
        verdict: "warn",
        measurements: { releasedHow: "never" },
        prediction: {
          ...prediction,
          releaseMs: null,
          mechanism: "none: no TCP_USER_TIMEOUT",
          how: "never",
          reason: "no TCP_USER_TIMEOUT",
          neverBecause: "no TCP_USER_TIMEOUT",
        },
      }),
    ]),
    target("srv-d", [
      scenario("vanish/idle", {
        measurements: { releaseMs: 40, releasedHow: "reset-by-peer" },
      }),
      scenario("freeze/stops-reading", { verdict: "warn", measurements: { releasedHow: "never" } }),
    ]),
    target("srv-e", [
      scenario("vanish/idle", {
        verdict: "inconclusive",
        measurements: {},
        expectations: [{
          kind: "released",
          level: "SHOULD",
          expectation: "released within 11 min",
          budgetMs: 660000,
          verdict: "inconclusive",
          measured: "not released within 60 s",
        }],
      }),
    ], 60_000),
  ];
}

Deno.test("budgetOf reads the release expectation's budget, as data", () => {
  const budget = (kind: string, budgetMs?: number) =>
    budgetOf(scenario("vanish/idle", {
      expectations: [{
        kind,
        expectation: "x",
        level: "SHOULD",
        ...(budgetMs === undefined ? {} : { budgetMs }),
        verdict: "pass",
        measured: "",
      }],
    }));
  assert.equal(budget("released", 660_000), 660_000);
  assert.equal(budget("released-by", 1000), 1000);
  assert.equal(budget("survives", 900_000), null);
  assert.equal(budget("released"), null);
});

Deno.test("each mark comes from the results: measured, else predicted, never, or not released while watched", () => {
  const [measured, predicted, never, unreleased, short] = sample();
  const point = (r: Results | undefined, id: string) =>
    chartPoint(r!, r!.scenarios.find((s) => s.id === id)!);
  assert.deepEqual(point(measured, "vanish/idle"), {
    target: "srv-a",
    scenario: "vanish/idle",
    kind: "measured",
    ms: 75_000,
    how: "the server (FIN or RST)",
    label: "",
  });
  assert.deepEqual(
    [point(predicted, "vanish/idle").kind, point(predicted, "vanish/idle").ms],
    ["predicted", 7_874_800],
  );
  assert.equal(point(predicted, "vanish/idle").how, "kernel keepalive");
  assert.deepEqual(
    [point(predicted, "freeze/stops-reading").kind, point(predicted, "freeze/stops-reading").label],
    ["n/a", "n/a"],
  );
  // A harness error says nothing about the server: no figure, even one it measured.
  const error = { ...measured!.scenarios[0]!, verdict: "error" as const };
  assert.deepEqual(
    [chartPoint(measured!, error).kind, chartPoint(measured!, error).label],
    ["n/a", "no result (error)"],
  );
  assert.deepEqual(
    [point(never, "vanish/idle").kind, point(never, "vanish/idle").label],
    ["never", "never"],
  );
  // Watched up to the deadline (60 s, shorter than the budget), nothing predicted.
  assert.deepEqual(
    [point(short, "vanish/idle").kind, point(short, "vanish/idle").label],
    ["unreleased", "> 60 s"],
  );
  assert.equal(point(unreleased, "vanish/idle").how, "the client's RST");
  // Watched up to the budget (11 min, shorter than the deadline).
  assert.equal(point(unreleased, "freeze/stops-reading").label, "> 11 min");
});

Deno.test("the chart has one mark per target and scenario, the budget lines, and never / not-released labels", async () => {
  const results = sample();
  const svg = await renderReleaseChart(results);
  assert.ok(svg);
  const root = parseXml(svg);
  assert.equal(root.name, "svg");
  const count = marks(root);
  const expected = results.flatMap((r) => r.scenarios.map((s) => `${s.id} ${r.target.id}`)).sort();
  assert.deepEqual([...count.keys()].sort(), expected);
  assert.ok([...count.values()].every((n) => n === 1), JSON.stringify([...count]));
  // One budget line (red, dashed) per panel.
  const budgetLines = all(root).filter((e) =>
    e.attributes.stroke === "#d62728" && e.attributes["stroke-dasharray"] !== undefined
  );
  assert.equal(budgetLines.length, 2);
  const words = texts(root);
  assert.equal(words.filter((t) => t === "never").length, 2);
  assert.equal(words.filter((t) => t === "> 60 s").length, 1);
  assert.equal(words.filter((t) => t === "> 11 min").length, 1);
  assert.equal(words.filter((t) => t === "n/a").length, 1);
  for (
    const legend of ["measured", "predicted (socket options)", "never by the kernel alone"]
  ) {
    assert.ok(words.includes(legend), legend);
  }
  assert.ok(words.some((t) => t.startsWith("vanish/idle (budget 11 min)")), words.join("|"));
});

Deno.test("the chart is the same bytes on a second run, whatever order the results come in", async () => {
  const first = await renderReleaseChart(sample());
  const second = await renderReleaseChart(sample().reverse());
  assert.ok(first);
  assert.equal(second, first);
});

Deno.test("text from the results is XML-escaped in the chart", async () => {
  const [one] = sample();
  const hostile = `<script>alert("x")</script> & ]]> '\u0007`;
  one!.scenarios[0]!.title = hostile;
  const svg = await renderReleaseChart([one!]);
  assert.ok(svg);
  assert.ok(!svg.includes("<script>"));
  const words = texts(parseXml(svg)).join(" ");
  assert.ok(words.includes(`<script>alert("x")</script>`), words);
});

Deno.test("no chart when no target ran a charted scenario", async () => {
  assert.equal(await renderReleaseChart([makeResults("a", { "rst/idle": "pass" })]), null);
});

Deno.test("the published results chart: one mark per target and charted scenario, at GitHub's width", async () => {
  const published = (await readResultsDir(REPORTS)).map((f) => f.results);
  const data = chartData(published);
  const warnings: string[] = [];
  releaseChartVega(data, warnings);
  assert.deepEqual(warnings, [], "vega-lite has no warning about the chart");
  const svg = await renderReleaseChart(published);
  assert.ok(svg);
  const root = parseXml(svg);
  assert.ok(Number(root.attributes.width) <= 890, `width ${root.attributes.width}`);
  const count = marks(root);
  let expected = 0;
  for (const id of CHART_SCENARIOS) {
    for (const r of published) {
      if (!r.scenarios.some((s) => s.id === id)) continue;
      expected++;
      assert.equal(count.get(`${id} ${r.target.id}`), 1, `${id} ${r.target.id}`);
    }
  }
  assert.equal([...count.values()].reduce((a, b) => a + b, 0), expected);
  const kinds = Object.groupBy(data.points, (p) => p.kind);
  const words = texts(root);
  assert.equal(words.filter((t) => t === "never").length, kinds.never?.length ?? 0);
  assert.equal(
    words.filter((t) => t.startsWith("> ")).length,
    kinds.unreleased?.length ?? 0,
  );
  console.log(
    `${data.panels.length} panels × ${data.targets.length} targets: ${
      Object.entries(kinds).map(([k, v]) => `${v?.length} ${k}`).join(", ")
    }; ${root.attributes.width} × ${root.attributes.height} px, ${svg.length} bytes`,
  );
});

Deno.test("report writes the chart beside the index, the same bytes on a second run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clientdown-chart-" });
  try {
    for (const r of sample()) {
      await Deno.writeTextFile(join(dir, `${r.target.id}.json`), `${JSON.stringify(r, null, 2)}\n`);
    }
    const written = await rebuildReports(dir);
    assert.ok(written.includes(join(dir, CHART_FILE)), written.join(", "));
    const first = await Deno.readTextFile(join(dir, CHART_FILE));
    await rebuildReports(dir);
    assert.equal(await Deno.readTextFile(join(dir, CHART_FILE)), first);
    assert.match(await Deno.readTextFile(join(dir, "README.md")), /releases\.svg/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
