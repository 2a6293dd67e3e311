/**
 * Regressions between two runs: per target and scenario, the verdicts and key figures that
 * changed. A verdict got worse when it went from pass to warn or fail, or from warn to fail;
 * nothing else counts as worse (an interrupted, skipped or inconclusive scenario says nothing
 * new about the server, an error is the harness's).
 *
 * Times are compared with a tolerance, as two runs never measure the same millisecond: a
 * time changed when it moved by more than 25 % and more than 500 ms. Two runs of the same
 * server on a loaded machine differ by a few hundred milliseconds (polling every 15 to 50 ms,
 * scheduling, the bystander's round trips), which is not a change of behaviour; a timeout
 * that moved from 5 s to 12 s is. Counts and mechanisms are compared exactly.
 *
 * @module
 */

import { formatMs } from "../time/duration.ts";
import type { Results, ScenarioResult, Verdict } from "./schema.ts";

/** One changed line of a diff. */
export interface DiffLine {
  /** Target id. */
  target: string;
  /** Scenario id, or null for a line about the whole target. */
  scenario: string | null;
  /** The verdict before and after, when it changed. */
  verdict?: { old: Verdict; new: Verdict };
  /** The verdict got worse (pass → warn or fail, warn → fail). */
  worse: boolean;
  /** What changed, in words: "pass → warn", "released 5 s → 12 s", "only in NEW". */
  changes: string[];
}

/** The outcome of a diff. */
export interface ResultsDiff {
  /** Every changed target or scenario, sorted by target then scenario id. */
  lines: DiffLine[];
  /** How many verdicts changed, and how many of them got worse. */
  verdictsChanged: number;
  /** Verdicts that got worse. */
  worse: number;
  /** Scenarios compared (present on both sides). */
  compared: number;
}

const RANK: Partial<Record<Verdict, number>> = { pass: 0, warn: 1, fail: 2 };

/** Whether going from `before` to `after` is a regression. */
export function isWorse(before: Verdict, after: Verdict): boolean {
  const a = RANK[before];
  const b = RANK[after];
  return a !== undefined && b !== undefined && b > a;
}

function timeChanged(a: number, b: number): boolean {
  const delta = Math.abs(a - b);
  return delta > 500 && delta > 0.25 * Math.max(Math.abs(a), Math.abs(b));
}

/** The key figures of a scenario, each as [name, comparable value, shown text]. */
function figures(s: ScenarioResult): Map<string, { ms?: number; text: string }> {
  const m = s.measurements;
  const out = new Map<string, { ms?: number; text: string }>();
  // Each expectation's own figure, named with its budget ("released within 11 min: 75 s").
  for (const e of s.expectations) {
    if (e.actual?.ms !== undefined) {
      out.set(`${e.expectation}:`, { ms: e.actual.ms, text: formatMs(e.actual.ms) });
    }
  }
  if (m.releasedHow !== undefined) out.set("released by", { text: m.releasedHow });
  const p = s.prediction;
  if (p) {
    out.set("predicted release", {
      ...(p.releaseMs === null ? {} : { ms: p.releaseMs }),
      text: p.releaseMs === null ? "never" : `${formatMs(p.releaseMs)} after ${p.from}`,
    });
  }
  if (m.leak) out.set("closed but held (leak)", { text: `fd ${m.leak.fd ?? "?"}` });
  if (m.othersTimeouts) out.set("others unanswered", { text: String(m.othersTimeouts) });
  if (m.serverExit) {
    const e = m.serverExit;
    out.set("server exit", { text: e.signal ? `killed by ${e.signal}` : `code ${e.code}` });
  }
  if (m.fdsBefore !== undefined && m.fdsAfter !== undefined) {
    out.set("fds left", { text: String(m.fdsAfter - m.fdsBefore) });
  }
  return out;
}

function figureChanges(a: ScenarioResult, b: ScenarioResult): string[] {
  const before = figures(a);
  const after = figures(b);
  const changes: string[] = [];
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const x = before.get(name);
    const y = after.get(name);
    if (x && y) {
      const changed = x.ms !== undefined && y.ms !== undefined
        ? timeChanged(x.ms, y.ms)
        : x.text !== y.text;
      if (changed) changes.push(`${name} ${x.text} → ${y.text}`);
    } else {
      changes.push(`${name} ${x?.text ?? "—"} → ${y?.text ?? "—"}`);
    }
  }
  return changes;
}

const byId = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;

/**
 * Compares two sets of results (OLD, NEW), matched by target id and scenario id.
 *
 * @example
 * ```ts ignore
 * import { diffResults } from "./diff.ts";
 * const diff = diffResults([baseline], [today]);
 * if (diff.worse) Deno.exit(1);
 * ```
 */
export function diffResults(old: readonly Results[], now: readonly Results[]): ResultsDiff {
  const before = new Map(old.map((r) => [r.target.id, r]));
  const after = new Map(now.map((r) => [r.target.id, r]));
  const lines: DiffLine[] = [];
  let compared = 0;
  for (const target of [...new Set([...before.keys(), ...after.keys()])].sort(byId)) {
    const a = before.get(target);
    const b = after.get(target);
    if (!a || !b) {
      lines.push({
        target,
        scenario: null,
        worse: false,
        changes: [a ? "only in OLD" : "only in NEW"],
      });
      continue;
    }
    if (a.target.version !== b.target.version) {
      lines.push({
        target,
        scenario: null,
        worse: false,
        changes: [`version ${a.target.version} → ${b.target.version}`],
      });
    }
    const sa = new Map(a.scenarios.map((s) => [s.id, s]));
    const sb = new Map(b.scenarios.map((s) => [s.id, s]));
    for (const id of [...new Set([...sa.keys(), ...sb.keys()])].sort(byId)) {
      const x = sa.get(id);
      const y = sb.get(id);
      if (!x || !y) {
        lines.push({
          target,
          scenario: id,
          worse: false,
          changes: [x ? `only in OLD (${x.verdict})` : `only in NEW (${y!.verdict})`],
        });
        continue;
      }
      compared++;
      const changes: string[] = [];
      const line: DiffLine = { target, scenario: id, worse: false, changes };
      if (x.verdict !== y.verdict) {
        line.verdict = { old: x.verdict, new: y.verdict };
        line.worse = isWorse(x.verdict, y.verdict);
        changes.push(`${x.verdict} → ${y.verdict}${line.worse ? " (worse)" : ""}`);
      }
      changes.push(...figureChanges(x, y));
      if (changes.length) lines.push(line);
    }
  }
  return {
    lines,
    verdictsChanged: lines.filter((l) => l.verdict).length,
    worse: lines.filter((l) => l.worse).length,
    compared,
  };
}

/** The diff as text: one line per changed target or scenario, then a summary line. */
export function formatDiff(diff: ResultsDiff): string {
  const lines = diff.lines.map((l) =>
    `${l.worse ? "worse  " : "changed"} ${l.target}${l.scenario ? ` ${l.scenario}` : ""}: ${
      l.changes.join("; ")
    }`
  );
  const summary = diff.lines.length
    ? `${diff.verdictsChanged} verdict${
      diff.verdictsChanged === 1 ? "" : "s"
    } changed, ${diff.worse} worse, over ${diff.compared} scenarios compared`
    : `No changes over ${diff.compared} scenarios compared`;
  // Text from results files reaches a terminal: no control characters.
  // deno-lint-ignore no-control-regex
  const safe = (line: string) => line.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  return `${[...lines.map(safe), summary].join("\n")}\n`;
}
