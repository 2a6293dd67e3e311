/**
 * The cross-server table of the README's "What we found": for each target, what happens to a
 * dead idle client and a dead client mid-response (released after, and how), to a client that
 * stops reading, whether a reset peer can kill the server (SIGPIPE), and whether others stay
 * served. Built from the results files only, so the README cannot drift from them.
 *
 * @module
 */

import type { Results, ScenarioResult } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import { CLOSED_BEFORE_FAULT } from "./vocabulary.ts";
import { Markdown, type MdValue, text } from "./markdown_escape.ts";
import { releasedHow, table } from "./markdown_parts.ts";

/** Where the README's generated table starts and ends. */
export const FINDINGS_MARKERS = {
  start: "<!-- findings:start (generated from reports/*.json by `deno task findings`) -->",
  end: "<!-- findings:end -->",
} as const;

/**
 * A release in a few words: "75.1 s", "2.2 h (predicted)", "over 15 min (no kernel timer ends
 * it)" when it was not released in what was watched.
 */
function release(result: ScenarioResult | undefined, deadlineMs: number): string {
  if (!result) return "—";
  if (result.verdict === "skip") return "n/a";
  const m = result.measurements;
  if (m.releasedBeforeFault) return CLOSED_BEFORE_FAULT;
  if (m.releaseMs !== undefined) return formatMs(m.releaseMs);
  if (m.leak) {
    return `never: fd held after the kernel ended it at ${formatMs(m.leak.kernelEndedMs)}`;
  }
  if (m.serverExit) return "server died";
  const p = result.prediction;
  if (p?.atMs !== undefined) return `${formatMs(p.atMs)} (predicted)`;
  const watched = `over ${formatMs(p?.watchedMs ?? deadlineMs)}`;
  return p?.releaseMs === null ? `${watched} (no kernel timer ends it)` : watched;
}

function mechanism(result: ScenarioResult | undefined): string {
  if (!result || result.verdict === "skip") return "—";
  const m = result.measurements;
  if (m.releaseMs !== undefined) return releasedHow(m.releasedHow);
  if (m.leak) return `${releasedHow(m.leak.how)}, fd held`;
  const p = result.prediction;
  if (p?.atMs !== undefined) return releasedHow(p.how);
  return "—";
}

function sigpipeSafe(scenarios: readonly ScenarioResult[]): string {
  const killed = scenarios.filter((s) => s.measurements.serverExit?.signal === "SIGPIPE");
  return killed.length ? `no (SIGPIPE in ${killed.length})` : "yes";
}

function othersServed(scenarios: readonly ScenarioResult[]): string {
  const stalled = scenarios.filter((s) =>
    s.expectations.some((e) =>
      e.kind === "others-served" &&
      (e.verdict === "fail" || e.verdict === "warn")
    )
  );
  return stalled.length ? `no (${stalled.length} scenarios)` : "yes";
}

/** The table, one row per results file, in id order. */
export function findingsTable(all: readonly Results[]): Markdown {
  const rows = [...all].sort((a, b) => a.target.id.localeCompare(b.target.id)).map((r) => {
    const by = (id: string) => r.scenarios.find((s) => s.id === id);
    const idle = by("vanish/idle"),
      busy = by("vanish/mid-response"),
      frozen = by("freeze/stops-reading");
    const deadline = r.environment.deadlineMs;
    const cells: MdValue[] = [
      Markdown.unsafe(`[${text(r.target.id)}](reports/${encodeURI(`${r.target.id}.md`)})`),
      release(idle, deadline),
      mechanism(idle),
      release(busy, deadline),
      mechanism(busy),
      release(frozen, deadline),
      sigpipeSafe(r.scenarios),
      othersServed(r.scenarios),
    ];
    return cells;
  });
  return table([
    "Server",
    "Idle dead client released after",
    "Mechanism",
    "Mid-response dead client released after",
    "Mechanism",
    "Frozen reader (zero window) released after",
    "SIGPIPE-safe",
    "Others served",
  ], rows);
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
