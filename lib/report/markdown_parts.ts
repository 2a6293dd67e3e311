/**
 * Small pieces the Markdown renderers share: the one place verdicts get their icon, word and
 * meaning (index and reports use it), tables, the key figure and a width estimate for tables.
 *
 * @module
 */

import type { ScenarioResult, Verdict } from "../results/schema.ts";
import { VERDICTS } from "../results/schema.ts";
import { lines, Markdown, md, type MdValue, text } from "./markdown_escape.ts";
import { keyStatement, type OutcomeContext } from "./outcome.ts";

/**
 * The one verdict order every table, count and legend uses: the contract's, best to worst
 * (`pass`, `info`, `skip`, `interrupted`, `warn`, `inconclusive`, `fail`, `error`).
 */
export const VERDICT_ORDER: readonly Verdict[] = VERDICTS;

/** Each verdict's icon: every one clearly visible (no pale outline). */
export const VERDICT_ICON: Readonly<Record<Verdict, string>> = {
  pass: "✅",
  info: "ℹ️",
  skip: "⏭️",
  interrupted: "⏹️",
  warn: "⚠️",
  inconclusive: "❓",
  fail: "❌",
  error: "💥",
};

/** What each verdict means, as the legend says it. */
export const VERDICT_MEANING: Readonly<Record<Verdict, string>> = {
  pass: "every expectation met",
  info: "a MAY scenario, measured for information only",
  skip: "does not apply to this server, or this machine cannot build the fault",
  interrupted: "the run was stopped while the scenario ran (never the server's doing)",
  warn: "a SHOULD broken",
  inconclusive:
    "the watch ended before the server acted, and no prediction of the kernel alone proves a pass (rerun with a longer deadline)",
  fail:
    "a MUST broken. Whatever the scenario's level, an expectation that is always a MUST makes it fail: the server died, or other clients were not served in time",
  error: "the harness itself failed: says nothing about the server",
};

/** A verdict's icon alone (plain text). */
export function icon(verdict: Verdict): string {
  return VERDICT_ICON[verdict];
}

/**
 * A verdict with its icon, as every table shows it: "✅ pass", joined by a no-break space so a
 * narrow column never wraps the word under its icon.
 */
export function badge(verdict: Verdict): Markdown {
  return text(`${VERDICT_ICON[verdict]}\u00a0${verdict}`);
}

/**
 * The legend: one list item per verdict, in {@linkcode VERDICT_ORDER}. `interrupted` only when
 * asked for (a run was stopped).
 */
export function legend(options: { interrupted?: boolean } = {}): Markdown {
  return lines(
    VERDICT_ORDER.filter((v) => v !== "interrupted" || options.interrupted).map((v) =>
      md`- ${VERDICT_ICON[v]} ${v}: ${VERDICT_MEANING[v]}`
    ),
  );
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

/** How the server released, in a few words for table cells (plain text). */
export function releasedHow(how: string | undefined): string {
  return how ? HOW[how] ?? how : "";
}

/**
 * The one figure that sums a scenario up, as a plain statement of the outcome ("released at
 * 75 s by the server's FIN", "held for the whole 11 min watched (budget 11 min); predicted: …",
 * "server killed by SIGPIPE 6 ms after the fault"). Plain text: the terminal shows it too;
 * escape it for Markdown. Never a harness note.
 *
 * @example
 * ```ts
 * import { keyFigure } from "./markdown_parts.ts";
 * import { SAMPLE } from "./testdata/sample_results.ts";
 * keyFigure(SAMPLE.scenarios[0]!); // "released at 5 s by kernel keepalive"
 * ```
 */
export function keyFigure(result: ScenarioResult, context: OutcomeContext = {}): string {
  return keyStatement(result, context);
}

/** GitHub's text column, px: what a table must fit without scrolling sideways. */
export const GITHUB_COLUMN_PX = 890;

/** The visible text of a Markdown cell: link targets and titles, emphasis and escapes undone. */
export function visibleText(cell: string): string {
  return cell
    .replace(/\]\([^)]*\)/g, "]")
    .replace(/[[\]]/g, "")
    .replace(/<[^>]*>/g, "")
    .replace(/\\(.)/g, "$1")
    .replace(/\*\*/g, "")
    .replace(/(^|\s)_([^_]+)_(?=\s|$)/g, "$1$2");
}

/**
 * The width of text at GitHub's 16 px body font, estimated from its characters: emoji about
 * 1.3 em, capitals and digits about 0.62 em, other characters about 0.52 em (generous for
 * -apple-system / Segoe UI, so the estimate errs wide).
 */
export function textWidthPx(value: string): number {
  let px = 0;
  for (const c of value) {
    const cp = c.codePointAt(0) ?? 0;
    if (cp === 0xfe0f || cp === 0x200d) continue;
    if (cp >= 0x2190 || cp === 0x2139) px += 1.3 * 16;
    else if (/[A-Z0-9@%]/.test(c)) px += 0.62 * 16;
    else if (/[il.,:;'|! ]/.test(c)) px += 0.3 * 16;
    else px += 0.52 * 16;
  }
  return px;
}

/**
 * The width of each column of a Markdown table on GitHub, estimated: as wide as its widest
 * cell, its text kept on one line ({@linkcode textWidthPx}), without padding.
 */
export function columnWidthsPx(markdownTable: string): number[] {
  const rows = markdownTable.split("\n").filter((l) => l.startsWith("|"))
    .filter((l) => !/^\|(?:-+\|)+$/.test(l))
    .map((l) => l.replace(/^\| | \|$/g, "").split(/(?<!\\)\|/).map((c) => c.trim()));
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, textWidthPx(visibleText(cell)));
    });
  }
  return widths;
}

/** Padding of a table cell on GitHub: 13 px on each side and a 1 px border. */
export const CELL_PADDING_PX = 27;

/**
 * The width a Markdown table takes on GitHub, estimated: each column as wide as its widest
 * cell (its text kept on one line), plus 13 px of padding on each side and a 1 px border.
 */
export function tableWidthPx(markdownTable: string): number {
  return columnWidthsPx(markdownTable).reduce((sum, w) => sum + w + CELL_PADDING_PX, 1);
}
