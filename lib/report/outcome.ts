/**
 * Plain statements of what happened in a scenario, built from the structured fields of a
 * results file (`measurements`, `prediction`, the environment's deadline), never by gluing an
 * expectation to its measured text. The Markdown reports and the terminal both print them, so
 * they are plain text: escape them for Markdown.
 *
 * @module
 */

import type {
  ExpectationResult,
  Prediction,
  ReleaseHow,
  ScenarioResult,
} from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import {
  CLOSED_BEFORE_FAULT,
  NEVER_BY_KERNEL,
  notReleased,
  releasedAt,
} from "../results/vocabulary.ts";

/** What a statement may use beyond the scenario itself. */
export interface OutcomeContext {
  /** The run's deadline per scenario (`environment.deadlineMs`): how long a scenario was watched at most. */
  deadlineMs?: number;
}

/** Who or what ended the connection, after "by". */
const BY: Record<ReleaseHow, string> = {
  "server-fin": "the server's FIN",
  "server-rst": "the server's RST",
  "keepalive-timeout": "kernel keepalive",
  "retransmission-timeout": "the kernel's retransmission timeout",
  "zero-window-timeout": "the kernel's zero-window probe timeout",
  "reset-by-peer": "the peer's RST",
  "freed-silently": "a silent close (no FIN or RST)",
  "never": "nothing",
};

/** Who ended a connection that was meant to survive, as the subject of a sentence. */
const LOST_BY: Record<ReleaseHow, string> = {
  "server-fin": "the server closed it (FIN)",
  "server-rst": "the server reset it (RST)",
  "keepalive-timeout": "the server's kernel keepalive gave up on it",
  "retransmission-timeout": "the server's kernel gave up retransmitting",
  "zero-window-timeout": "the server's kernel gave up probing the zero window",
  "reset-by-peer": "an RST from the client's side ended it",
  "freed-silently": "the server closed it silently",
  "never": "nothing",
};
/** What the client saw, after "the client then saw". */
const SEEN: Record<string, string> = {
  EOF: "EOF",
  ECONNRESET: "a reset (ECONNRESET)",
  ETIMEDOUT: "a timeout (ETIMEDOUT)",
};

/** Short names of release mechanisms, for parentheses: "(FIN)". */
const SHORT: Record<ReleaseHow, string> = {
  "server-fin": "FIN",
  "server-rst": "RST",
  "keepalive-timeout": "keepalive",
  "retransmission-timeout": "retransmission timeout",
  "zero-window-timeout": "zero-window timeout",
  "reset-by-peer": "the peer's RST",
  "freed-silently": "freed without FIN or RST",
  "never": "never",
};

/**
 * "by the server's FIN", "by kernel keepalive": how a connection was released, after "released
 * at 75 s".
 *
 * @example
 * ```ts
 * import { releasedBy } from "./outcome.ts";
 * releasedBy("server-fin"); // "by the server's FIN"
 * ```
 */
export function releasedBy(how: ReleaseHow | undefined): string {
  return how && how !== "never" ? `by ${BY[how]}` : "";
}

/** The mechanism in a word or two: "FIN", "keepalive", "the peer's RST". */
export function releasedShort(how: ReleaseHow): string {
  return SHORT[how];
}

/** The release expectation of a scenario ("released within", "released by"), if it has one. */
function releaseExpectation(s: ScenarioResult): ExpectationResult | undefined {
  return s.expectations.find((e) => e.kind === "released" || e.kind === "released-by");
}

/** The budget of a scenario's release expectation: in words ("11 min") and in ms. */
export function budgetOf(s: ScenarioResult): { text: string; ms: number } | undefined {
  const ms = releaseExpectation(s)?.budgetMs;
  return ms === undefined ? undefined : { text: formatMs(ms), ms };
}

/** The reason a prediction gives, after its mechanism's name ("idle 2 s ..."). */
function predictionReason(p: Prediction): string {
  return p.reason ?? p.mechanism;
}

/** The kernel mechanism of a prediction, in words, and why it never acts when it does not. */
function mechanismWords(p: Prediction): { by: string; never?: string } {
  switch (p.how) {
    case "never":
      return { by: "nothing", ...(p.neverBecause ? { never: p.neverBecause } : {}) };
    case "keepalive-timeout":
      return { by: "keepalive" };
    case "zero-window-timeout":
      return { by: "zero-window probe timeout" };
    case "reset-by-peer":
      return { by: "the peer's RST to a keepalive probe" };
    default:
      return { by: SHORT[p.how] };
  }
}

/** When a prediction says the kernel ends the connection, in ms after the fault (if known). */
function predictedAt(p: Prediction): number | undefined {
  return p.releaseMs === null ? undefined : p.atMs;
}

/**
 * What the prediction says, as a statement: "released by the kernel alone at 15.7 min
 * (retransmission timeout)", "never by the kernel alone (SO_KEEPALIVE is off)".
 */
export function predictionStatement(p: Prediction): string {
  const words = mechanismWords(p);
  if (p.releaseMs === null || words.never !== undefined) {
    return `${NEVER_BY_KERNEL} (${words.never ?? p.mechanism})`;
  }
  const at = predictedAt(p);
  const when = at !== undefined
    ? `at ${formatMs(at)}`
    : `${formatMs(p.releaseMs)} after the ${p.from.replaceAll("-", " ")}`;
  return `released by the kernel alone ${when} (${words.by})`;
}

/**
 * Whether a measured release fell within the prediction's tolerance: true or false when the
 * prediction states a tolerance and a moment the measurement can be set against (ms after the
 * fault, or after the last traffic), undefined when it cannot be told.
 */
export function predictionHeld(p: Prediction, s: ScenarioResult): boolean | undefined {
  const m = s.measurements;
  if (!p.toleranceMs || p.releaseMs === null || m.releaseMs === undefined) return undefined;
  const pair: [number, number] | undefined = p.atMs !== undefined
    ? [p.atMs, m.releaseMs]
    : p.from === "last-traffic" && m.releaseSinceLastTrafficMs !== undefined
    ? [p.releaseMs, m.releaseSinceLastTrafficMs]
    : undefined;
  if (!pair) return undefined;
  const [predicted, measured] = pair;
  return measured >= predicted - p.toleranceMs.early && measured <= predicted + p.toleranceMs.late;
}

/**
 * How long the connection was watched without a release, ms: as the prediction recorded it,
 * else the budget (a release is watched for until its budget is used up), at most the deadline.
 */
export function watchedMs(s: ScenarioResult, ctx: OutcomeContext): number | undefined {
  const limits = [budgetOf(s)?.ms, ctx.deadlineMs].filter((v): v is number => v !== undefined);
  return s.prediction?.watchedMs ?? (limits.length ? Math.min(...limits) : undefined);
}

/**
 * The release, as a statement: "released at 75 s by the server's FIN", "not released within
 * its 11 min budget; predicted: released at 15.7 min by the kernel's retransmission timeout",
 * "the kernel ended it at 2 h 11 min (keepalive) but the server still holds fd 12 (a leak)".
 */
export function releaseStatement(s: ScenarioResult, ctx: OutcomeContext = {}): string {
  const m = s.measurements;
  if (m.releaseMs !== undefined) {
    const by = releasedBy(m.releasedHow);
    const when = m.releasedBeforeFault ? CLOSED_BEFORE_FAULT : releasedAt(m.releaseMs);
    return `${when}${by ? ` ${by}` : ""}`;
  }
  if (m.serverExit) return `not released: ${exitStatement(s)}`;
  if (m.leak) {
    const fd = m.leak.fd === null ? "its fd" : `fd ${m.leak.fd}`;
    return `the kernel ended it at ${formatMs(m.leak.kernelEndedMs)} (${
      SHORT[m.leak.how]
    }) but the server still holds ${fd} (a leak)`;
  }
  const parts = [notReleased(watchedMs(s, ctx), budgetOf(s)?.ms)];
  if (s.prediction) parts.push(`predicted: ${predictionStatement(s.prediction)}`);
  return parts.join("; ");
}

/** "server killed by SIGPIPE 6 ms after the fault", "server exited with code 1". */
export function exitStatement(s: ScenarioResult): string {
  const exit = s.measurements.serverExit;
  if (!exit) return "server kept running";
  const what = exit.signal
    ? `server killed by ${exit.signal}`
    : `server exited with code ${exit.code}`;
  const at = exit.atMs;
  if (at === undefined) return what;
  return `${what} ${formatMs(Math.abs(at))} ${at >= 0 ? "after" : "before"} the fault`;
}

/** True when an expectation held (a MAY's `info` says nothing either way: read its text). */
function held(e: ExpectationResult): boolean {
  return e.verdict === "pass";
}

/** A survival expectation's outcome: "survived: …", "connection lost: EOF from the server". */
function survivalStatement(s: ScenarioResult, e: ExpectationResult): string {
  const a = e.actual;
  if (a?.survived === true) return `survived: ${e.measured}`;
  if (a?.survived === false && a.error !== undefined) {
    const words: Record<string, string> = {
      EOF: "EOF from the server",
      ECONNRESET: "reset (ECONNRESET)",
      ETIMEDOUT: "the client's kernel timed out (ETIMEDOUT)",
    };
    const r = s.measurements;
    if (r.releaseMs !== undefined && r.releasedHow && r.releasedHow !== "never") {
      return `connection lost: ${LOST_BY[r.releasedHow]} at ${
        formatMs(r.releaseMs)
      }; the client then saw ${SEEN[a.error] ?? a.error}`;
    }
    return `connection lost: ${words[a.error] ?? a.error}`;
  }
  return e.measured || (held(e) ? "survived" : "not shown to survive");
}

/**
 * "other clients served, slowest answer 104 ms, 0 of 6 unanswered"; without a figure (one
 * above the bound cannot stand beside a pass): "other clients served, each answered within 1 s,
 * 0 of 6 unanswered".
 */
function othersStatement(e: ExpectationResult): string {
  const a = e.actual;
  const within = e.budgetMs === undefined ? "" : ` within ${formatMs(e.budgetMs)}`;
  const counts = a?.unanswered === undefined ? "" : `${a.unanswered} of ${a.of ?? 0} unanswered`;
  const figures = a?.ms !== undefined
    ? [`slowest answer ${formatMs(a.ms)}`, counts].filter(Boolean).join(", ")
    : a
    ? [`each answered${within}`, counts].filter(Boolean).join(", ")
    : e.measured;
  if (held(e) || (e.verdict === "info" && a?.unanswered === 0)) {
    return figures ? `other clients served, ${figures}` : "other clients served";
  }
  return `other clients not served${within}: ${figures}`;
}

/**
 * "back to baseline: client connections 0 → 0, RSS 15408 → 15924 KiB, fds 37 → 37" (results
 * written before client connections were counted: "fds 37 → 37, RSS …"): the figures judged.
 */
function baselineStatement(e: ExpectationResult): string {
  return `${held(e) ? "back to baseline" : "not back to baseline"}: ${e.measured}`;
}

/**
 * One expectation's outcome as a statement (plain text), from the structured fields where the
 * expectation has them.
 */
export function expectationStatement(
  s: ScenarioResult,
  e: ExpectationResult,
  ctx: OutcomeContext = {},
): string {
  switch (e.kind) {
    case "released":
    case "released-by": {
      const m = s.measurements;
      if (m.releaseMs !== undefined || m.leak || m.serverExit || m.releasedHow === "never") {
        return releaseStatement(s, ctx);
      }
      if (s.prediction) return releaseStatement(s, ctx);
      return e.actual?.ms !== undefined ? releasedAt(e.actual.ms) : e.measured;
    }
    case "server-alive":
      return exitStatement(s);
    case "others-served":
      return othersStatement(e);
    case "survives":
      return survivalStatement(s, e);
    case "resources-restored":
      return baselineStatement(e);
    case "response-delivered":
      return held(e)
        ? `response delivered (${e.measured})`
        : `response not delivered: ${e.measured}`;
    default:
      return e.measured ? `${e.expectation}: ${e.measured}` : e.expectation;
  }
}

/** The first sentence of a text. */
function firstSentence(text: string): string {
  return text.split(/(?<=\.)\s/)[0]?.trim() ?? "";
}

/**
 * The one statement that sums a scenario up: why it was not judged (skip, error, interrupted);
 * else the server's death; else what broke; else the release; else the first expectation.
 * Plain text, never a harness note.
 *
 * @example
 * ```ts
 * import { keyStatement } from "./outcome.ts";
 * import { SAMPLE } from "./testdata/sample_results.ts";
 * keyStatement(SAMPLE.scenarios[0]!); // "released at 5 s by kernel keepalive"
 * ```
 */
export function keyStatement(s: ScenarioResult, ctx: OutcomeContext = {}): string {
  if (s.verdict === "skip" || s.verdict === "error" || s.verdict === "interrupted") {
    const first = firstSentence(s.notes);
    if (first) return first;
    if (s.verdict === "error") {
      return s.harnessNotes ? "the harness failed (see its note)" : "the harness failed";
    }
    return s.verdict === "skip" ? "not applicable" : "the run was stopped";
  }
  if (s.measurements.serverExit) return exitStatement(s);
  const broken = s.expectations.find((e) => e.verdict === s.verdict && e.verdict !== "pass");
  if (broken) return expectationStatement(s, broken, ctx);
  if (s.measurements.releaseMs !== undefined || s.measurements.leak) {
    return releaseStatement(s, ctx);
  }
  const first = s.expectations[0];
  return first ? expectationStatement(s, first, ctx) : "—";
}

/** The tolerance of a prediction, in words: " (tolerance 10 ms early, 6.3 s late)". */
function toleranceWords(p: Prediction): string {
  return p.toleranceMs
    ? ` (tolerance ${formatMs(p.toleranceMs.early)} early, ${formatMs(p.toleranceMs.late)} late)`
    : "";
}

/**
 * What the prediction means next to what was measured, as sentences: a prediction the
 * measurement contradicts is never printed as if it held.
 *
 * - released, and the kernel alone would never have ended it: says so, and which mechanism
 *   acted;
 * - released within the prediction's tolerance: the measurement confirmed it;
 * - released otherwise: the prediction did not hold, and what acted instead;
 * - not released: what the kernel would do after the watch ended (labelled a prediction).
 */
export function predictionSentences(s: ScenarioResult): string {
  const p = s.prediction;
  // Only a release still open is the prediction's question: a survival the exchange settled,
  // or a scenario without a release expectation, is not.
  if (!p || !releaseExpectation(s)) return "";
  const m = s.measurements;
  const words = mechanismWords(p);
  const detail = predictionReason(p);
  const situation = p.situation ? ` Situation: ${p.situation}.` : "";
  if (m.releaseMs !== undefined) {
    const actual = `${releasedAt(m.releaseMs)}${
      m.releasedHow && m.releasedHow !== "never" ? ` (${SHORT[m.releasedHow]})` : ""
    }`;
    const actor = m.releasedHow === "server-fin" || m.releasedHow === "server-rst" ||
        m.releasedHow === "freed-silently"
      ? "the server itself"
      : m.releasedHow === "reset-by-peer"
      ? "the peer's RST"
      : "the kernel";
    if (p.releaseMs === null || words.never !== undefined) {
      return `The kernel alone would never have ended it (${
        words.never ?? p.mechanism
      }); ${actor} did: ${actual}.${situation}`;
    }
    const held = predictionHeld(p, s);
    if (held) {
      return `The measurement confirmed the prediction within its tolerance${
        toleranceWords(p)
      }: ${actual}; predicted: ${predictionStatement(p)}.`;
    }
    if (held === undefined) {
      return `Measured: ${actual}. Predicted from the socket options and sysctls: ${
        predictionStatement(p)
      } (no tolerance to judge the two by).${situation}`;
    }
    return `The prediction did not hold: it would have been ${predictionStatement(p)}${
      toleranceWords(p)
    }; ${actor} acted instead: ${actual}.${situation}`;
  }
  const source =
    "Prediction (not measured; from the server socket's options and the namespace's sysctls)";
  if (p.releaseMs === null || words.never !== undefined) {
    return `${source}: ${NEVER_BY_KERNEL} (${detail}).${situation}`;
  }
  return `${source}: it would be ${predictionStatement(p)}${
    toleranceWords(p)
  }: ${detail}.${situation}`;
}
