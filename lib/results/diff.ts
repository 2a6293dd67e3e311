/**
 * Regressions between two runs: per target and scenario, the verdicts and key figures that
 * changed. A verdict got worse when it moved away from pass (to anything: a CI baseline that
 * passed and now errs, is skipped or inconclusive no longer shows the server passes), or from
 * warn to fail. Runs made with different deadlines are compared, with a loud warning: a
 * shorter deadline turns measurements into predictions and inconclusive verdicts.
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
  /** The verdict got worse (pass → anything else, warn → fail). */
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
  /** Targets whose two runs had different deadlines, with both (ms). */
  deadlines: { target: string; old: number; new: number }[];
}

const RANK: Partial<Record<Verdict, number>> = { pass: 0, warn: 1, fail: 2 };

/** Whether going from `before` to `after` is a regression. */
export function isWorse(before: Verdict, after: Verdict): boolean {
  if (before === "pass") return after !== "pass";
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
  const deadlines: ResultsDiff["deadlines"] = [];
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
    if (a.environment.deadlineMs !== b.environment.deadlineMs) {
      deadlines.push({ target, old: a.environment.deadlineMs, new: b.environment.deadlineMs });
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
    deadlines,
  };
}

/** Past this many scenarios only on one side of a target, they are shown as one line. */
const ONE_SIDED_SHOWN = 5;

function describeLine(l: DiffLine): string {
  return `${l.worse ? "worse  " : "changed"} ${l.target}${l.scenario ? ` ${l.scenario}` : ""}: ${
    l.changes.join("; ")
  }`;
}

/** Scenarios only in OLD or only in NEW, one line per target and side when there are many. */
function oneSidedLines(lines: readonly DiffLine[]): string[] {
  const groups = new Map<string, DiffLine[]>();
  for (const l of lines) {
    const key = `${l.target} ${l.changes[0]?.startsWith("only in OLD") ? "OLD" : "NEW"}`;
    groups.set(key, [...groups.get(key) ?? [], l]);
  }
  return [...groups].flatMap(([key, group]) => {
    if (group.length <= ONE_SIDED_SHOWN) return group.map(describeLine);
    const [target, side] = key.split(" ");
    const ids = group.map((l) => l.scenario);
    return [
      `changed ${target}: ${group.length} scenarios only in ${side} (${
        ids.slice(0, 3).join(", ")
      }, …)`,
    ];
  });
}

/**
 * The diff as text: a warning when deadlines differ, the verdicts that got worse first, then
 * the other changes, scenarios on one side only (one line per target when many), a summary
 * line, and the warning again, last, where a CI log is read.
 */
export function formatDiff(diff: ResultsDiff): string {
  const oneSided = (l: DiffLine) =>
    l.scenario !== null && /^only in (OLD|NEW)/.test(l.changes[0] ?? "");
  const lines = [
    ...diff.lines.filter((l) => l.worse).map(describeLine),
    ...diff.lines.filter((l) => !l.worse && !oneSided(l)).map(describeLine),
    ...oneSidedLines(diff.lines.filter(oneSided)),
  ];
  const summary = diff.lines.length
    ? `${diff.verdictsChanged} verdict${
      diff.verdictsChanged === 1 ? "" : "s"
    } changed, ${diff.worse} worse, over ${diff.compared} scenarios compared`
    : `No changes over ${diff.compared} scenarios compared`;
  const warning = diff.deadlines.length
    ? [
      `WARNING: the runs' deadlines differ (${
        diff.deadlines.map((d) => `${d.target}: OLD ${formatMs(d.old)}, NEW ${formatMs(d.new)}`)
          .join("; ")
      }): a shorter deadline predicts or leaves inconclusive what a longer one measures, so ` +
      "verdicts and figures may differ for that reason alone",
    ]
    : [];
  // Text from results files reaches a terminal: no control characters.
  // deno-lint-ignore no-control-regex
  const safe = (line: string) => line.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  return `${[...warning, ...lines.map(safe), summary, ...warning].join("\n")}\n`;
}
