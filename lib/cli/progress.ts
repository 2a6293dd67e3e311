/**
 * What a run shows while it works, on stderr. On a terminal: a live view of the running
 * scenarios (id, what each waits for, elapsed / deadline), redrawn a few times a second,
 * under a scrolling line per finished scenario. Without a terminal (CI): the line per
 * finished scenario, and every 30 s one line of what still runs, so a CI log is never silent
 * for a whole deadline. Colour only on a terminal and without NO_COLOR. A summary at the end.
 *
 * @module
 */

import type { ProgressEvent } from "../runner/run_options.ts";
import type { Results, ScenarioResult, Verdict } from "../results/schema.ts";
import { VERDICTS } from "../results/schema.ts";
import { keyFigure } from "../report/markdown_parts.ts";
import { formatMs } from "../time/duration.ts";

const COLOUR: Record<Verdict, number> = {
  pass: 32,
  info: 36,
  skip: 2,
  interrupted: 2,
  warn: 33,
  inconclusive: 35,
  fail: 31,
  error: 91,
};
const VERDICT_WIDTH = Math.max(...VERDICTS.map((v) => v.length));
const ID_WIDTH = 28;
/** Running scenarios shown at most; the rest are counted, so the view fits a screen. */
const MAX_ROWS = 20;

/** How progress is shown. */
export interface ProgressOptions {
  /** Writes text to the display (stderr), synchronously. */
  write: (text: string) => void;
  /** A live view (on a terminal), or one line per finished scenario. */
  live: boolean;
  /** ANSI colours. */
  color: boolean;
  /** Scenarios in the run. */
  total: number;
  /** Name the target on each line (several targets in one run). */
  showTarget: boolean;
  /** Terminal width: live lines are cut to it, so a redraw never wraps. */
  columns?: number;
  /** Clock for elapsed times, in ms. */
  now?: () => number;
  /** Redraw period of the live view, in ms. */
  redrawMs?: number;
  /** Without a live view, how often a line says what still runs, in ms (default 30 000). */
  heartbeatMs?: number;
}

interface Running {
  target: string;
  scenario: string;
  deadlineMs: number;
  since: number;
  waitsFor: string;
}

function paint(text: string, code: number, color: boolean): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * Text from a server or a target (a key figure may quote its log) made safe for a terminal:
 * control characters, escape sequences included, are shown as `\xNN`, never interpreted.
 */
export function printable(text: string): string {
  return text.replace(
    CONTROL,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** The width result lines fit in: a CI log's or an 80-to-100-column terminal's. */
export const RESULT_COLUMNS = 100;

/** `text` cut to `width` characters, an ellipsis marking the cut. */
export function fitted(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * One finished scenario, in at most RESULT_COLUMNS columns:
 * `verdict  [target]  id  key figure  duration`; the key figure is cut to fit (the report
 * has it whole).
 */
export function resultLine(
  result: ScenarioResult,
  options: { color: boolean; target?: string },
): string {
  const verdict = result.verdict.padEnd(VERDICT_WIDTH);
  const target = options.target === undefined ? [] : [options.target];
  const before = [...target, result.id.padEnd(ID_WIDTH)].join("  ");
  const duration = formatMs(result.durationMs);
  const room = RESULT_COLUMNS - verdict.length - before.length - duration.length - 6;
  return [
    paint(verdict, COLOUR[result.verdict], options.color),
    before,
    fitted(printable(keyFigure(result)), room),
    duration,
  ]
    .join("  ");
}

/** Lines of the server's own output shown under a scenario that ended in an error. */
const SERVER_LINES = 3;

/**
 * Under a scenario the harness could not judge (`error`: the target did not answer its
 * request, say), the server's last lines of output, indented, so the reason it gave is on the
 * terminal and not only in the report; nothing for other verdicts.
 */
export function serverLastLines(result: ScenarioResult): string[] {
  const log = result.server?.stderrTail ?? result.server?.log;
  if (result.verdict !== "error" || !log) return [];
  return log.trimEnd().split("\n").slice(-SERVER_LINES).map((line) =>
    fitted(`    server: ${printable(line)}`, RESULT_COLUMNS)
  );
}

/** Words wrapped to lines of at most `width` columns, each after `indent`. */
export function wrapped(text: string, indent: string, width = RESULT_COLUMNS): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(`${indent}${line}`);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(`${indent}${line}`);
  return lines.map((l) => fitted(l, width));
}

function median(values: readonly number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = values.toSorted((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function counts(scenarios: readonly ScenarioResult[], color: boolean): string {
  // "interrupted" only when a run was: it is no outcome of the server's.
  return VERDICTS.flatMap((v) => {
    const n = scenarios.filter((s) => s.verdict === v).length;
    if (!n && v === "interrupted") return [];
    return [n ? paint(`${n} ${v}`, COLOUR[v], color) : `${n} ${v}`];
  }).join(", ");
}

/**
 * The end-of-run summary: counts per verdict (per target when several), wall time, the sum
 * of scenario times, and the median per-scenario harness overhead (lab up + target ready +
 * teardown). The figures are for people: printed, never asserted.
 */
export function summary(all: readonly Results[], wallMs: number, color = false): string {
  const scenarios = all.flatMap((r) => r.scenarios);
  const lines = all.length > 1
    ? all.map((r) => `${r.target.id}: ${counts(r.scenarios, color)}`)
    : [];
  lines.push(`${scenarios.length} scenarios: ${counts(scenarios, color)}`);
  const sum = scenarios.reduce((total, s) => total + s.durationMs, 0);
  const parallel = wallMs > 0 ? ` (${(sum / wallMs).toFixed(1)}× in parallel)` : "";
  lines.push(`Wall time ${formatMs(wallMs)}, sum of scenario times ${formatMs(sum)}${parallel}`);
  const harness = scenarios.flatMap((s) => s.measurements.harness ?? []);
  const total = median(harness.map((h) => h.labUpMs + h.targetReadyMs + h.teardownMs));
  if (total !== undefined) {
    const part = (pick: (h: typeof harness[number]) => number) =>
      formatMs(median(harness.map(pick)) ?? 0);
    lines.push(
      `Harness overhead per scenario, median of ${harness.length}: ${formatMs(total)} ` +
        `(lab up ${part((h) => h.labUpMs)}, target ready ${part((h) => h.targetReadyMs)}, ` +
        `teardown ${part((h) => h.teardownMs)})`,
    );
  }
  return lines.join("\n");
}

/** The progress display of one run; feed it the runner's events, then `finish()`. */
export class Progress {
  readonly #options: ProgressOptions;
  readonly #now: () => number;
  readonly #running = new Map<string, Running>();
  #done = 0;
  #drawn = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Takes one runner event (pass it as RunOptions.onProgress). */
  readonly onEvent = (event: ProgressEvent): void => {
    if (event.kind === "start") {
      this.#running.set(`${event.target} ${event.scenario}`, {
        target: event.target,
        scenario: event.scenario,
        deadlineMs: event.deadlineMs,
        since: this.#now(),
        waitsFor: "starting",
      });
    } else if (event.kind === "waiting") {
      const running = this.#running.get(`${event.target} ${event.scenario}`);
      if (running) running.waitsFor = event.for;
    } else {
      this.#running.delete(`${event.target} ${event.result.id}`);
      this.#done++;
      const target = this.#options.showTarget ? { target: event.target } : {};
      const under = serverLastLines(event.result).map((line) => `${line}\n`).join("");
      this.#print(
        `${resultLine(event.result, { color: this.#options.color, ...target })}\n${under}`,
      );
      return;
    }
    // Starts and waits only change state: the timer redraws, so a burst of events costs one redraw.
    if (this.#timer !== undefined) return;
    if (this.#options.live) {
      this.#timer = setInterval(() => this.#print(""), this.#options.redrawMs ?? 250);
      this.#print("");
    } else {
      this.#timer = setInterval(() => {
        if (this.#running.size) this.#print(`${this.#stillRunning()}\n`);
      }, this.#options.heartbeatMs ?? 30_000);
    }
  };

  /** Writes a line (an interrupt's, say) above the live view, which is redrawn below it. */
  note(line: string): void {
    this.#print(`${line}\n`);
  }

  /** One line of what still runs: counts, and the scenario running longest. */
  #stillRunning(): string {
    const now = this.#now();
    const longest = [...this.#running.values()].reduce((a, b) => a.since <= b.since ? a : b);
    const target = this.#options.showTarget ? `${longest.target} ` : "";
    const elapsed = `${formatMs(now - longest.since)}, deadline ${formatMs(longest.deadlineMs)}`;
    return `… ${this.#running.size} running, ${this.#done} of ${this.#options.total} done; ` +
      `longest ${target}${longest.scenario} (${elapsed}): ${longest.waitsFor}`;
  }

  /** Stops the live view and writes the summary of the run. */
  finish(all: readonly Results[], wallMs: number): void {
    this.stop();
    this.#options.write(`${summary(all, wallMs, this.#options.color)}\n`);
  }

  /** Stops redrawing and clears the live view; safe to call more than once. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#running.clear();
    if (this.#drawn) this.#print("");
  }

  /** Writes finished lines above the live view, redrawing it below them. */
  #print(finished: string): void {
    if (!this.#options.live) {
      if (finished) this.#options.write(finished);
      return;
    }
    const erase = this.#drawn ? `\r\x1b[${this.#drawn}A\x1b[J` : "";
    const block = this.#block();
    this.#drawn = block.length;
    this.#options.write(erase + finished + block.map((line) => `${line}\n`).join(""));
  }

  #block(): string[] {
    if (!this.#running.size) return [];
    const now = this.#now();
    const { total, columns = 100, showTarget, color } = this.#options;
    const head = `${this.#running.size} running, ${this.#done} of ${total} done`;
    const rows = [...this.#running.values()].slice(0, MAX_ROWS).map((r) => {
      const elapsed = `${((now - r.since) / 1000).toFixed(1)} s / ${formatMs(r.deadlineMs)}`;
      const target = showTarget ? `${r.target}  ` : "";
      return `  ${target}${r.scenario.padEnd(ID_WIDTH)}  ${elapsed.padStart(16)}  ${r.waitsFor}`;
    });
    const more = this.#running.size - rows.length;
    if (more > 0) rows.push(`  … and ${more} more`);
    return [paint(head, 1, color), ...rows].map((line) => line.slice(0, columns - 1));
  }
}

/** Writes text to stderr completely, synchronously (so a redraw is never interleaved). */
export function writeStderr(text: string): void {
  const bytes = new TextEncoder().encode(text);
  for (let written = 0; written < bytes.length;) {
    written += Deno.stderr.writeSync(bytes.subarray(written));
  }
}

/** Whether stderr shows colour: a terminal, and NO_COLOR unset (https://no-color.org). */
export function stderrColor(): boolean {
  return Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR");
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 100; // stderr is a terminal but its size is unknown (e.g. a bare pty)
  }
}

/** The progress display on this process's stderr: live on a terminal, lines otherwise. */
export function stderrProgress(total: number, showTarget: boolean): Progress {
  const live = Deno.stderr.isTerminal();
  return new Progress({
    write: writeStderr,
    live,
    color: stderrColor(),
    total,
    showTarget,
    columns: live ? terminalColumns() : 100,
  });
}
