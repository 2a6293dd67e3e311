/**
 * Small pieces the Markdown renderers share: verdict badges, tables, figures.
 *
 * @module
 */

import type { ScenarioResult, Verdict } from "../results/schema.ts";
import { lines, Markdown, md, type MdValue, text } from "./markdown_escape.ts";
import { formatMs } from "../time/duration.ts";

const BADGE: Record<Verdict, string> = {
  pass: "✅ pass",
  fail: "❌ fail",
  warn: "⚠️ warn",
  info: "ℹ️ info",
  skip: "⏭️ skip",
  interrupted: "⏹️ interrupted",
  inconclusive: "❔ inconclusive",
  error: "💥 error",
};

/** A verdict with its symbol, as every table shows it. */
export function badge(verdict: Verdict): Markdown {
  return text(BADGE[verdict]);
}

/**
 * A Markdown table from a header row and body rows. Strings are escaped as table cells;
 * Markdown values are placed as they are (on one line).
 */
export function table(header: readonly MdValue[], rows: readonly (readonly MdValue[])[]): Markdown {
  const line = (cells: readonly MdValue[]) =>
    `| ${cells.map((c) => md`${c}`.toString().replaceAll("\n", " ")).join(" | ")} |`;
  return lines([
    Markdown.unsafe(line(header)),
    Markdown.unsafe(`|${header.map(() => "---").join("|")}|`),
    ...rows.map((r) => Markdown.unsafe(line(r))),
  ]);
}

const HOW: Record<string, string> = {
  "server-fin": "server closed (FIN)",
  "server-rst": "server aborted (RST)",
  "keepalive-timeout": "kernel keepalive timeout",
  "retransmission-timeout": "kernel retransmission timeout",
  "zero-window-timeout": "zero-window probe timeout",
  "reset-by-peer": "peer's RST",
  "freed-silently": "socket freed",
  "never": "never released",
};

/** How the server released, in words (plain text). */
export function releasedHow(how: string | undefined): string {
  return how ? HOW[how] ?? how : "";
}

/**
 * The one figure that sums a scenario up in the overview table: what broke, when something
 * did; else how the server released; else what was measured. Plain text (the terminal shows
 * it too): escape it for Markdown.
 */
export function keyFigure(result: ScenarioResult): string {
  if (result.verdict === "skip" || result.verdict === "error" || result.verdict === "interrupted") {
    return result.notes.split(/(?<=\.)\s/)[0] ?? "";
  }
  const broken = result.expectations.find((e) =>
    e.verdict === result.verdict && e.verdict !== "pass"
  );
  const shown = (e: { expectation: string; measured: string; predicted?: boolean }) =>
    `${e.expectation}: ${e.measured}${e.predicted ? " (predicted)" : ""}`;
  if (broken) return shown(broken);
  const m = result.measurements;
  if (m.releaseMs !== undefined) {
    return `released after ${formatMs(m.releaseMs)} (${releasedHow(m.releasedHow)})`;
  }
  const first = result.expectations[0];
  return first ? shown(first) : "—";
}
