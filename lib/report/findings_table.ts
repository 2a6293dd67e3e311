/**
 * The cross-server table of the README's "What we found": for each stock configuration, how
 * long a dead idle client, a dead client mid-response and a client that stops reading were held
 * and by what, and whether others stayed served. Built from the results files only, so the
 * README cannot drift from them; narrow enough for GitHub's column.
 *
 * @module
 */

import type { ReleaseHow, Results, ScenarioResult } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import { CLOSED_BEFORE_FAULT } from "../results/vocabulary.ts";
import { Markdown, type MdValue, text } from "./markdown_escape.ts";
import { table } from "./markdown_parts.ts";

/** Where the README's generated table starts and ends. */
export const FINDINGS_MARKERS = {
  start: "<!-- findings:start (generated from reports/*.json by `deno task findings`) -->",
  end: "<!-- findings:end -->",
} as const;

/** The mechanism in a word, after the time in a cell: "75.2 s FIN". */
const MECHANISM: Record<ReleaseHow, string> = {
  "server-fin": "FIN",
  "server-rst": "RST",
  "keepalive-timeout": "keepalive",
  "retransmission-timeout": "retries",
  "zero-window-timeout": "zero window",
  "reset-by-peer": "peer's RST",
  "freed-silently": "silent close",
  "never": "",
};

/**
 * A release in a few words: "75.1 s FIN", "_2 h 11 min_ keepalive" (italic: predicted, what the
 * kernel alone would do), "never" (not released while watched, and never by the kernel alone),
 * "> 11 min" (not released while watched, nothing predicted), "closed before the fault".
 */
function release(result: ScenarioResult | undefined): MdValue {
  if (!result) return "—";
  if (result.verdict === "skip") return "n/a";
  const m = result.measurements;
  if (m.releasedBeforeFault) return CLOSED_BEFORE_FAULT;
  if (m.releaseMs !== undefined) {
    return `${formatMs(m.releaseMs)} ${m.releasedHow ? MECHANISM[m.releasedHow] : ""}`.trim();
  }
  if (m.leak) return `fd held (${MECHANISM[m.leak.how]} ${formatMs(m.leak.kernelEndedMs)})`;
  if (m.serverExit) return "server died";
  const p = result.prediction;
  if (p?.atMs !== undefined) {
    return Markdown.unsafe(`_${text(formatMs(p.atMs))}_ ${text(MECHANISM[p.how])}`.trim());
  }
  if (p?.releaseMs === null) return "never";
  return `> ${formatMs(p?.watchedMs ?? 0)}`;
}

function othersServed(scenarios: readonly ScenarioResult[]): string {
  const stalled = scenarios.filter((s) =>
    s.expectations.some((e) =>
      e.kind === "others-served" && (e.verdict === "fail" || e.verdict === "warn")
    )
  );
  return stalled.length ? `no (${stalled.length})` : "yes";
}

/**
 * The table, one row per stock configuration (variants are in the reports' index), in id
 * order: how long a vanished idle client, a client vanished mid-response and a client that
 * stopped reading were held, and whether others stayed served (with the number of scenarios
 * where not). The reports say the rest (a reset peer that killed the server, SIGPIPE).
 */
export function findingsTable(all: readonly Results[]): Markdown {
  const stock = all.filter((r) => !r.target.id.includes("@"));
  const rows = [...stock].sort((a, b) => a.target.id.localeCompare(b.target.id)).map((r) => {
    const by = (id: string) => r.scenarios.find((s) => s.id === id);
    const cells: MdValue[] = [
      Markdown.unsafe(`[${text(r.target.id)}](reports/${encodeURI(`${r.target.id}.md`)})`),
      release(by("vanish/idle")),
      release(by("vanish/mid-response")),
      release(by("freeze/stops-reading")),
      othersServed(r.scenarios),
    ];
    return cells;
  });
  return table(
    [
      "Server",
      "Idle",
      "Mid-response",
      "Stopped reading",
      "Others served",
    ],
    rows,
  );
}

/** `readme` with the text between the findings markers replaced by the table of `all`. */
export function withFindings(readme: string, all: readonly Results[]): string {
  const start = readme.indexOf(FINDINGS_MARKERS.start);
  const end = readme.indexOf(FINDINGS_MARKERS.end);
  if (start < 0 || end < start) {
    throw new SyntaxError(`README has no findings markers: "${FINDINGS_MARKERS.start}"`);
  }
  return readme.slice(0, start + FINDINGS_MARKERS.start.length) + "\n\n" +
    findingsTable(all).toString() + "\n\n" + readme.slice(end);
}
