/**
 * The chart across servers: how long each target holds a client that went down silently, one
 * panel per dead-peer scenario, targets as rows, on one log time axis. It is drawn from the
 * results alone (vega-lite compiled to vega, rendered headless to SVG: no browser, no canvas,
 * text widths estimated), so `report` rebuilds it byte for byte, and written beside the index
 * as `releases.svg`.
 *
 * Where each figure comes from: `measurements.releaseMs` (measured, filled mark), else
 * `prediction.atMs` (predicted from the server's socket options, hollow mark); a prediction
 * whose `releaseMs` is null is "never" (by the kernel alone); nothing released and
 * nothing predicted is "not released while watched" (the watch ends at the budget or the
 * deadline, whichever comes first). The budget is the requirement's "released within X".
 *
 * @module
 */

import * as vega from "vega";
import { compile } from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import type { Results, ScenarioResult } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import { NEVER_BY_KERNEL } from "../results/vocabulary.ts";

/** The chart's file name, in the reports directory beside `README.md`. */
export const CHART_FILE = "releases.svg";

/**
 * The scenarios charted: one per way a client goes down silently, where only the server's
 * own timers (application or kernel) can notice. Idle first (the vanished host, the NAT that
 * drops strays, the host that rebooted and answers only what reaches it), then with the
 * server sending (the vanished host, the router's ICMP unreachable, the client that stops
 * reading). IPv6 twins and the other cases of these families measure the same timers and
 * are left out, so that the chart stays readable.
 */
export const CHART_SCENARIOS: readonly string[] = [
  "vanish/idle",
  "nat/idle-expired-drop",
  "reboot/idle",
  "vanish/mid-response",
  "icmp/host-unreachable",
  "freeze/stops-reading",
];

/** What a mark stands for. */
export type ChartKind = "measured" | "predicted" | "never" | "unreleased" | "n/a";

/** The words of each kind, in the legend and the marks' descriptions. */
export const KIND_LABELS: Readonly<Record<ChartKind, string>> = {
  measured: "measured",
  predicted: "predicted (socket options)",
  never: NEVER_BY_KERNEL,
  unreleased: "not released while watched",
  "n/a": "not charted",
};

/** Who let go, grouped as a reader asks it: the server's own timer, or which kernel timer. */
const HOW_GROUPS = [
  ["server", "the server (FIN or RST)", "#0072B2"],
  ["keepalive", "kernel keepalive", "#009E73"],
  ["retransmission", "kernel retransmission timeout", "#E69F00"],
  ["peer-rst", "the client's RST", "#CC79A7"],
  ["silent", "freed silently", "#56B4E9"],
  ["none", "not released", "#6b6b6b"],
] as const;
type HowGroup = typeof HOW_GROUPS[number][0];
const HOW_LABEL = new Map<HowGroup, string>(HOW_GROUPS.map(([g, label]) => [g, label]));

/** One mark: a target in a scenario. */
export interface ChartPoint {
  /** The target id. */
  target: string;
  /** The scenario id. */
  scenario: string;
  /** What the mark stands for. */
  kind: ChartKind;
  /** Milliseconds after the fault (for "never": null; for "unreleased": how long was watched). */
  ms: number | null;
  /** Who let go (or "not released"), in words. */
  how: string;
  /** The label beside the mark ("never", "> 11 min", "n/a"), or "" for a plain mark. */
  label: string;
}

/** Where the chart's x axis starts: shorter times are drawn at its left edge. */
const AXIS_MIN_MS = 100;
/** The finite part of the axis ends at least here (the 2 h 11 min of default keepalive fits). */
const AXIS_END_MS = 4 * 3_600_000;

/** The budget of a scenario result's release expectation ("released within 11 min"), in ms. */
export function budgetOf(result: ScenarioResult): number | null {
  return result.expectations.find((e) => e.kind === "released" || e.kind === "released-by")
    ?.budgetMs ?? null;
}

function howOfRelease(how: string | undefined): HowGroup {
  switch (how) {
    case "server-fin":
    case "server-rst":
      return "server";
    case "keepalive-timeout":
      return "keepalive";
    case "retransmission-timeout":
    case "zero-window-timeout":
      return "retransmission";
    case "reset-by-peer":
      return "peer-rst";
    case "freed-silently":
      return "silent";
    default:
      return "none";
  }
}

/** The mark of one target in one scenario. */
export function chartPoint(results: Results, result: ScenarioResult): ChartPoint {
  const base = { target: results.target.id, scenario: result.id };
  const { measurements: m, prediction: p } = result;
  const none = HOW_LABEL.get("none")!;
  // Skipped (does not apply), or no verdict on the server at all (harness error, interrupted).
  if (result.verdict === "skip") return { ...base, kind: "n/a", ms: null, how: none, label: "n/a" };
  if (result.verdict === "error" || result.verdict === "interrupted") {
    return { ...base, kind: "n/a", ms: null, how: none, label: `no result (${result.verdict})` };
  }
  if (m.releaseMs !== undefined) {
    const how = HOW_LABEL.get(howOfRelease(m.releasedHow))!;
    return { ...base, kind: "measured", ms: m.releaseMs, how, label: "" };
  }
  if (p?.releaseMs === null) return { ...base, kind: "never", ms: null, how: none, label: "never" };
  if (p?.atMs !== undefined) {
    const how = HOW_LABEL.get(howOfRelease(p.how))!;
    return { ...base, kind: "predicted", ms: Math.max(0, p.atMs), how, label: "" };
  }
  const deadline = results.environment.deadlineMs;
  const watched = p?.watchedMs ?? Math.min(budgetOf(result) ?? deadline, deadline);
  return { ...base, kind: "unreleased", ms: watched, how: none, label: `> ${formatMs(watched)}` };
}

/**
 * A text from a results file as XML can hold it: control characters (which XML 1.0 forbids
 * even escaped) and lone surrogates become U+FFFD. vega escapes the markup characters.
 */
function printable(text: string): string {
  return text.toWellFormed().replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g,
    "\ufffd",
  );
}

/** Stock targets first, each followed by its variants (`nginx`, `nginx@so-keepalive`). */
function compareTargets(a: string, b: string): number {
  const [ab = "", av = ""] = a.split("@");
  const [bb = "", bv = ""] = b.split("@");
  if (ab !== bb) return ab < bb ? -1 : 1;
  return av === bv ? 0 : av < bv ? -1 : 1;
}

/** The chart's content: its panels (scenarios charted that some target ran) and marks. */
export interface ChartData {
  /** Scenario ids, in chart order, each with its title and budget. */
  panels: { id: string; title: string; budgetMs: number | null }[];
  /** Target ids, in row order. */
  targets: string[];
  /** One mark per target and panel where the target ran the scenario. */
  points: ChartPoint[];
  /** The longest deadline of the runs, ms. */
  deadlineMs: number;
}

/** The chart's content, from the results of every target. */
export function chartData(all: readonly Results[]): ChartData {
  const targets = all.map((r) => r.target.id).sort(compareTargets);
  const byId = new Map(all.map((r) => [r.target.id, r]));
  const panels: ChartData["panels"] = [];
  const points: ChartPoint[] = [];
  for (const id of CHART_SCENARIOS) {
    const ran = targets.flatMap((t) => {
      const results = byId.get(t)!;
      const result = results.scenarios.find((s) => s.id === id);
      return result ? [{ results, result }] : [];
    });
    const first = ran[0]?.result;
    if (!first) continue;
    const budget = ran.map((r) => budgetOf(r.result)).find((b) => b !== null) ?? null;
    panels.push({ id, title: printable(first.title), budgetMs: budget });
    points.push(...ran.map((r) => chartPoint(r.results, r.result)));
  }
  const deadlineMs = Math.max(0, ...all.map((r) => r.environment.deadlineMs));
  return { panels, targets, points, deadlineMs };
}

/** Width of one panel, px: three panels and the target names fit GitHub's 890 px column. */
const PANEL_WIDTH = 200;

/** The words of a text in lines no wider than `width` px (Helvetica at `size` px). */
function wrap(text: string, width: number, size: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.at(-1);
    if (last !== undefined && helveticaWidth({ fontSize: size }, `${last} ${word}`) <= width) {
      lines[lines.length - 1] = `${last} ${word}`;
    } else lines.push(word);
  }
  return lines;
}

/** One decade-ish tick per order of magnitude a reader thinks in. */
const TICKS = [100, 1000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000, 864_000_000];
const TICK_LABEL_EXPR = "datum.value >= 86400000 ? format(datum.value / 86400000, 'd') + ' d' : " +
  "datum.value >= 3600000 ? format(datum.value / 3600000, 'd') + ' h' : " +
  "datum.value >= 60000 ? format(datum.value / 60000, 'd') + ' min' : " +
  "datum.value >= 1000 ? format(datum.value / 1000, 'd') + ' s' : format(datum.value, 'd') + ' ms'";

/** The vega-lite specification of the chart. */
export function releaseChartSpec(data: ChartData): TopLevelSpec {
  const finite = data.points.flatMap((p) =>
    p.kind === "measured" || p.kind === "predicted" ? [p.ms ?? 0] : []
  );
  const axisEnd = Math.max(AXIS_END_MS, ...finite.map((ms) => ms * 1.25));
  const neverMs = axisEnd * 1.8;
  const domain = [AXIS_MIN_MS, axisEnd * 2.5];
  const panelOf = new Map(data.panels.map((p) => [p.id, p]));
  const header = (id: string) => {
    const p = panelOf.get(id)!;
    const budget = p.budgetMs === null ? "no budget" : `budget ${formatMs(p.budgetMs)}`;
    return [`${id} (${budget})`, ...wrap(p.title, PANEL_WIDTH, 11)].join("\n");
  };
  const values = data.points.map((p) => {
    const x = p.kind === "never"
      ? neverMs
      : p.kind === "n/a"
      ? AXIS_MIN_MS
      : Math.min(Math.max(p.ms ?? 0, AXIS_MIN_MS), axisEnd);
    const figure = p.kind === "measured" || p.kind === "predicted"
      ? `${KIND_LABELS[p.kind]} ${formatMs(p.ms ?? 0)} after the fault, by ${p.how}`
      : `${KIND_LABELS[p.kind]}: ${p.label}`;
    return {
      target: p.target,
      panel: header(p.scenario),
      x,
      kind: KIND_LABELS[p.kind],
      how: p.how,
      label: p.label,
      budget: panelOf.get(p.scenario)?.budgetMs ?? null,
      desc: `${p.scenario}, ${p.target}: ${figure}`,
    };
  });
  const kinds: ChartKind[] = ["measured", "predicted", "never", "unreleased"];
  const x = {
    field: "x",
    type: "quantitative" as const,
    title: "time after the client went down (log scale)",
    scale: { type: "log" as const, domain, nice: false, clamp: true },
    axis: {
      values: TICKS.filter((t) => t <= axisEnd),
      labelExpr: TICK_LABEL_EXPR,
      grid: true,
      gridColor: "#e4e4e4",
      labelFlush: false,
    },
  };
  const y = {
    field: "target",
    type: "nominal" as const,
    title: null,
    sort: data.targets,
    axis: { grid: true, gridColor: "#f0f0f0", labelLimit: 0, labelFontSize: 10, ticks: false },
  };
  const how = {
    field: "how",
    type: "nominal" as const,
    title: "Released by",
    scale: {
      domain: HOW_GROUPS.map(([, label]) => label),
      range: HOW_GROUPS.map(([, , colour]) => colour),
    },
    legend: { orient: "top" as const, columns: 2, labelLimit: 0 },
  };
  const hollow =
    `datum.kind === '${KIND_LABELS.predicted}' || datum.kind === '${KIND_LABELS.unreleased}'`;
  const symbol = {
    filter: `datum.kind !== '${KIND_LABELS["n/a"]}'`,
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "How long each server holds a client that went down silently",
      subtitle: [
        "Release time after the client went down, per scenario (log scale; under 0.1 s at the left edge).",
        "Filled: measured; hollow: predicted from the server's socket options. Red dashed: the",
        "requirement's budget; grey dotted: the run's deadline (later releases are predictions).",
      ],
      anchor: "start",
      fontSize: 15,
      subtitleFontSize: 11,
    },
    background: "white",
    padding: 8,
    data: { values },
    facet: {
      field: "panel",
      type: "nominal",
      title: null,
      sort: data.panels.map((p) => header(p.id)),
      header: {
        labelExpr: "split(datum.value, '\\n')",
        labelFontSize: 11,
        labelLimit: 0,
        labelAnchor: "start",
      },
    },
    columns: 3,
    spacing: { row: 96, column: 14 },
    bounds: "flush",
    resolve: { axis: { x: "independent" } },
    spec: {
      width: PANEL_WIDTH,
      height: { step: 11 },
      layer: [
        {
          mark: { type: "rect", color: "#f4f4f4" },
          encoding: { x: { datum: axisEnd * 1.3 }, x2: { datum: domain[1] } },
        },
        {
          transform: [{ filter: "datum.budget !== null" }, {
            aggregate: [{ op: "min", field: "budget", as: "budget" }],
          }],
          mark: { type: "rule", color: "#d62728", strokeDash: [4, 3], strokeWidth: 1.5 },
          encoding: { x: { field: "budget", type: "quantitative" } },
        },
        {
          mark: { type: "rule", color: "#8c8c8c", strokeDash: [1, 2], strokeWidth: 1.2 },
          encoding: { x: { datum: data.deadlineMs } },
        },
        {
          transform: [symbol],
          mark: { type: "point", filled: true, size: 42, strokeWidth: 1.6, opacity: 1 },
          encoding: {
            x,
            y,
            shape: {
              field: "kind",
              type: "nominal",
              title: "Mark",
              scale: {
                domain: kinds.map((k) => KIND_LABELS[k]),
                range: ["circle", "circle", "triangle-right", "triangle-right"],
              },
              legend: { orient: "top", columns: 2, labelLimit: 0 },
            },
            fillOpacity: { condition: { test: hollow, value: 0 }, value: 1 },
            fill: how,
            stroke: how,
            description: { field: "desc" },
          },
        },
        {
          transform: [{ filter: `datum.label !== '' && datum.kind !== '${KIND_LABELS["n/a"]}'` }],
          // The label beside a mark: its mark already describes it.
          mark: { type: "text", fontSize: 9, color: "#444", align: "right", dx: -7, aria: false },
          encoding: { x, y, text: { field: "label" } },
        },
        {
          transform: [{ filter: `datum.kind === '${KIND_LABELS["n/a"]}'` }],
          mark: { type: "text", fontSize: 9, color: "#8c8c8c", align: "left", dx: 2 },
          encoding: { x, y, text: { field: "label" }, description: { field: "desc" } },
        },
      ],
    },
    config: {
      view: { stroke: "#cccccc" },
      font: "Helvetica, Arial, sans-serif",
      legend: { labelFontSize: 10, titleFontSize: 11, symbolStrokeWidth: 1.6 },
      axis: { labelFontSize: 10, titleFontSize: 10, titleFontWeight: "normal" },
    },
  } as TopLevelSpec;
}

/**
 * Helvetica's advance widths (Adobe's AFM, in 1/1000 em) for printable ASCII, from space (32)
 * to tilde (126). With no canvas, vega guesses 0.8 em per character, half as wide again as
 * real text: labels would be cut short and the layout would not fit GitHub's column.
 */
const HELVETICA = [
  278,
  278,
  355,
  556,
  556,
  889,
  667,
  191,
  333,
  333,
  389,
  584,
  278,
  333,
  278,
  278, // space to /
  556,
  556,
  556,
  556,
  556,
  556,
  556,
  556,
  556,
  556,
  278,
  278,
  584,
  584,
  584,
  556, // 0 to ?
  1015,
  667,
  667,
  722,
  722,
  667,
  611,
  778,
  722,
  278,
  500,
  667,
  556,
  833,
  722,
  778, // @ to O
  667,
  778,
  722,
  667,
  611,
  722,
  667,
  944,
  667,
  667,
  611,
  278,
  278,
  278,
  469,
  556, // P to _
  333,
  556,
  556,
  500,
  556,
  556,
  278,
  556,
  556,
  222,
  222,
  500,
  222,
  833,
  556,
  556, // ` to o
  556,
  556,
  333,
  500,
  278,
  556,
  500,
  722,
  500,
  500,
  500,
  334,
  260,
  334,
  584, // p to ~
];

/**
 * vega's text measurer (exported, not typed): `width` is replaceable, as vl-convert does.
 */
const textMetrics = (vega as unknown as {
  textMetrics: { width: (item: TextItem, text: unknown) => number };
}).textMetrics;

/** What a text measurer is given of a text mark. */
interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
}

/** Width of a text in px as Helvetica draws it (bold a little wider); never truncated. */
function helveticaWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize ?? 11;
  const bold = item.fontWeight === "bold" || Number(item.fontWeight) >= 600 ? 1.06 : 1;
  let em = 0;
  for (const ch of text == null ? "" : String(text).trim()) {
    const code = ch.codePointAt(0) ?? 0;
    em += HELVETICA[code - 32] ?? (code > 0x2e7f ? 1000 : 556);
  }
  return (em / 1000) * size * bold;
}

/**
 * The chart as SVG text, from the results of every target; null when none of them ran a
 * charted scenario. The same results give the same bytes.
 *
 * @example
 * ```ts ignore
 * import { renderReleaseChart } from "./release_chart.ts";
 * const svg = await renderReleaseChart(allResults);
 * if (svg) await Deno.writeTextFile("reports/releases.svg", svg);
 * ```
 */
export async function renderReleaseChart(all: readonly Results[]): Promise<string | null> {
  const data = chartData(all);
  if (!data.points.length) return null;
  const view = new vega.View(vega.parse(releaseChartVega(data)), {
    renderer: "none",
    logLevel: vega.Error,
  });
  const estimate = textMetrics.width;
  textMetrics.width = helveticaWidth;
  try {
    const svg = await view.toSVG();
    return `${svg}\n`;
  } finally {
    textMetrics.width = estimate;
    view.finalize();
  }
}

/**
 * The chart compiled to a vega specification. vega-lite's warnings about the specification
 * go to `warnings` (none is expected: a test checks), not to the console of `report`.
 */
export function releaseChartVega(data: ChartData, warnings: string[] = []): vega.Spec {
  const note = (...args: readonly unknown[]) => void warnings.push(args.map(String).join(" "));
  const logger = {
    level(): number {
      return vega.Warn;
    },
    error: note,
    warn: note,
    info: () => logger,
    debug: () => logger,
  } as unknown as vega.LoggerInterface;
  const spec = compile(releaseChartSpec(data), { logger }).spec;
  // vega-lite draws every symbol of a shape legend filled: the marks legend shows its
  // hollow kinds hollow, as the marks are.
  for (const legend of spec.legends ?? []) {
    if (legend.shape === undefined) continue;
    const hollow = [KIND_LABELS.predicted, KIND_LABELS.unreleased].map((k) => `'${k}'`);
    legend.encode = {
      ...legend.encode,
      symbols: {
        update: {
          fill: { value: "#444" },
          stroke: { value: "#444" },
          strokeWidth: { value: 1.6 },
          fillOpacity: { signal: `indexof([${hollow.join(", ")}], datum.value) >= 0 ? 0 : 1` },
        },
      },
    };
  }
  return spec;
}
