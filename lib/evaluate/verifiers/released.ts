/**
 * `released({ within })`: the server stops holding the connection (no fd of its process tree
 * refers to the socket) within the budget, counted from the fault. A socket the kernel ended
 * while the server still holds its fd is a leak, not a release. A server that died did not
 * release anything: it was judged by its death. When the deadline ends the wait first, the
 * kernel's own timers, predicted from what was observed, are an upper bound: a prediction
 * within the budget passes (labelled), a later one is inconclusive (the server may act sooner).
 *
 * @module
 */

import type { Level } from "../../results/schema.ts";
import { type Duration, formatMs, parseDuration } from "../../time/duration.ts";
import {
  CLOSED_BEFORE_FAULT,
  NEVER_BY_KERNEL,
  notReleased,
  releasedAfter,
} from "../../results/vocabulary.ts";
import { checkDuration } from "./_durations.ts";
import { ownTimeoutsBefore } from "./_own_timeouts.ts";
import { defineVerifier, type Facts, serverDeath } from "./verifier.ts";
import { connectionRelease } from "../../observe/connection_release.ts";

/** The data of a `released` expectation. */
export interface Released {
  kind: "released";
  within: Duration;
  level?: Level;
}

function tolerance(p: { toleranceMs: { early: number; late: number } }): string {
  const { early, late } = p.toleranceMs;
  return early === late ? `±${formatMs(late)}` : `−${formatMs(early)}/+${formatMs(late)}`;
}

/** What else may release the connection before the kernel would: the server's own timeouts. */
function ownTimeouts(facts: Facts, beforeMs: number): string {
  const knobs = ownTimeoutsBefore(facts.knobs, beforeMs);
  return knobs.length
    ? `the server's own timeouts (${knobs.join(", ")} by its knobs) may act sooner`
    : "the server's own timeouts, if it has any, may act sooner";
}

function releaseAdvice(facts: Facts): string {
  if (facts.phase === "mid-response") {
    return "Bound stalled sends: set TCP_USER_TIMEOUT on accepted sockets (it also bounds zero-window stalls) and an application send timeout.";
  }
  if (facts.phase === "mid-request" || facts.phase === "handshake") {
    return "Time out incomplete requests and silent new connections at the application (a request/header timeout).";
  }
  if (facts.measurements.leak) {
    return "Close the connection when a read or write on it fails (ECONNRESET, ETIMEDOUT, EPIPE): the kernel has already ended it.";
  }
  const o = facts.obs.connection.options;
  if (o && !o.keepalive) {
    return "Enable SO_KEEPALIVE with TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT in seconds to minutes (the OS defaults take 2 h 11 min), or an application idle timeout.";
  }
  return "Shorten TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT or add an application idle timeout so dead peers are found within the budget.";
}

/** The verifier of `released`. */
export const releasedVerifier = defineVerifier({
  kind: "released",
  build: (options: { within: Duration; level?: Level }): Released => ({
    kind: "released",
    ...options,
  }),
  check: (e: Released) => checkDuration(e.within, "within"),
  describe: (e) => `released within ${formatMs(parseDuration(e.within))}`,
  budgetMs: (e) => parseDuration(e.within),
  watchMs: (e) => parseDuration(e.within),
  settled: (_e, live) => connectionRelease(live.socket).releasedAt !== undefined,
  judge(e, facts) {
    const budget = parseDuration(e.within);
    const { release, measurements: m, prediction } = facts;
    const death = serverDeath(facts);
    // countedRelease counts no release at or after the death (it ended the connection).
    if (death && release.releasedAt === undefined) {
      return { met: false, actual: `not released: ${death}, the connection ended with it` };
    }
    if (m.releaseMs !== undefined) {
      return {
        met: m.releaseMs <= budget,
        actual: m.releasedBeforeFault ? CLOSED_BEFORE_FAULT : releasedAfter(m.releaseMs, budget),
        found: { ms: m.releaseMs, ...(m.releasedHow ? { how: m.releasedHow } : {}) },
      };
    }
    if (m.leak) {
      const fd = m.leak.fd === null ? "its fd" : `fd ${m.leak.fd}`;
      return {
        met: false,
        actual: `not released: the kernel ended the socket after ${
          formatMs(m.leak.kernelEndedMs)
        } (${m.leak.how}) but the server still holds ${fd} (a leak)`,
      };
    }
    if (facts.watchedMs >= budget) {
      return { met: false, actual: notReleased(facts.watchedMs, budget) };
    }
    // The deadline ended the wait first. A prediction is what the kernel alone would do: an
    // upper bound, as the server may close sooner. It proves a release within the budget, never
    // a miss: only watching to the budget can.
    const watched = notReleased(facts.watchedMs, budget);
    const tell = `a deadline of ${formatMs(budget)} would tell`;
    if (!prediction || prediction.kind === "unknown") {
      const why = prediction?.reason ?? "no socket options to predict from";
      return { met: "inconclusive", actual: `${watched}; no exact kernel model: ${why}; ${tell}` };
    }
    if (prediction.kind === "never") {
      return {
        met: "inconclusive",
        actual: `${watched}; ${NEVER_BY_KERNEL} (${prediction.reason}); ${
          ownTimeouts(facts, Infinity)
        }: ${tell}`,
      };
    }
    const faultAt = facts.obs.run.faultAt ?? prediction.at;
    const atMs = Math.max(0, prediction.at - faultAt);
    const kernel = `the kernel alone releases it ${formatMs(atMs)} after the fault (${
      tolerance(prediction)
    }; ${prediction.reason})`;
    const found = { ms: Math.round(atMs), how: prediction.how };
    if (atMs + prediction.toleranceMs.late <= budget) {
      return { met: true, actual: `predicted: ${kernel}`, found, predicted: true };
    }
    return {
      met: "inconclusive",
      actual: `${watched}; predicted: ${kernel}; ${ownTimeouts(facts, atMs)}: ${tell}`,
      found,
      predicted: true,
    };
  },
  advice: (_e, facts) => releaseAdvice(facts),
});
