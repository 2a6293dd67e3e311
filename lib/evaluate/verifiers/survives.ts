/**
 * `survives({ for })`: the connection is still usable after the steps (an exchange on it
 * succeeds, or both ends still hold it ESTABLISHED for protocols with one request per
 * connection), optionally after watching it this long. What was observed wins: a server
 * that closed the connection or died, or an exchange that failed, breaks it whatever a model
 * says; but a server that closed the idle connection before anything could tell it of the
 * fault makes the question moot (not applicable). Only when the deadline ended the watch first
 * and the connection was still fine is survival behind a NAT predicted from the server's
 * keepalive: a probe that refreshes the mapping passes; without one it is inconclusive, as the
 * server's own traffic may refresh it.
 *
 * @module
 */

import type { Level } from "../../results/schema.ts";
import { type Duration, formatMs, parseDuration } from "../../time/duration.ts";
import { checkDuration } from "./_durations.ts";
import { ownTimeoutsBefore } from "./_own_timeouts.ts";
import { defineVerifier, type Facts, type Judgement, serverDeath } from "./verifier.ts";

/** The data of a `survives` expectation. */
export interface Survives {
  kind: "survives";
  for?: Duration;
  level?: Level;
}

/** Slack between the span asked for and the time watched before a watch counts as short. */
const SHORT_WATCH_SLACK_MS = 1000;

/**
 * Whether an idle connection outlives a NAT's timeout, when the deadline ended the watch first:
 * a keepalive probe more often than the timeout refreshes the mapping (a prediction that
 * passes). Without one the kernel alone lets the mapping expire, but the server's own traffic
 * (a heartbeat, a ping) may still refresh it: only watching the whole span tells.
 */
function survivalPredicted(facts: Facts, spanMs: number): Judgement {
  const o = facts.obs.connection.options;
  const natMs = facts.obs.run.natTimeoutMs;
  const watched = `still up after the ${formatMs(facts.watchedMs)} watched`;
  const tell = `a deadline of ${formatMs(spanMs)} would tell`;
  if (natMs === undefined || !o) return { met: "inconclusive", actual: `${watched}; ${tell}` };
  const nat = formatMs(natMs);
  if (o.keepalive && o.keepIdleS * 1000 < natMs) {
    return {
      met: true,
      actual: `predicted: keepalive after ${o.keepIdleS} s idle refreshes the ${nat} mapping`,
      predicted: true,
    };
  }
  const why = o.keepalive ? `keepalive starts after ${o.keepIdleS} s idle` : "keepalive is off";
  const own = ownTimeoutsBefore(facts.knobs, natMs);
  return {
    met: "inconclusive",
    actual: `${watched}; predicted: the kernel alone lets the ${nat} mapping expire (${why}); ` +
      `the server's own traffic (a heartbeat or ping${
        own.length ? `: ${own.join(", ")} by its knobs` : ""
      }) may refresh it: ${tell}`,
    predicted: true,
  };
}

/** The verifier of `survives`. */
export const survivesVerifier = defineVerifier({
  kind: "survives",
  build: (options: { for?: Duration; level?: Level } = {}): Survives => ({
    kind: "survives",
    ...options,
  }),
  check: (e: Survives) => e.for === undefined ? undefined : checkDuration(e.for, "for"),
  describe: (e) =>
    e.for ? `connection survives ${formatMs(parseDuration(e.for))}` : "connection survives",
  budgetMs: (e) => e.for === undefined ? undefined : parseDuration(e.for),
  watchMs: (e) => e.for === undefined ? 0 : parseDuration(e.for),
  judge(e, facts) {
    const death = serverDeath(facts);
    if (death) return { met: false, actual: `connection lost: ${death}` };
    const survived = facts.obs.exchanges.survived;
    if (!survived) return { met: false, actual: "connection lost: not checked" };
    const own = facts.unpromptedClose;
    if (own && !survived.ok) {
      return {
        met: "not-applicable",
        actual: `not applicable: the server closed the idle connection itself (${own.flag} ${
          formatMs(own.idleMs)
        } after the last traffic) before anything could tell it of the fault`,
        why:
          "It closes a connection idle that long whether or not the client is there (an idle timeout, or a heartbeat the test client does not send), so whether the connection survives the outage was not tested.",
      };
    }
    const mapped = facts.closedWhileMapped;
    if (mapped && !survived.ok && survived.natForgot) {
      // Nothing but the NAT happened to the client, and it had not acted yet.
      return {
        met: "not-applicable",
        actual: `not applicable: the server closed the connection itself (${mapped.flag} ${
          formatMs(mapped.idleMs)
        } after the last traffic) while the NAT's mapping still lived`,
        why:
          "Nothing but the NAT happened to the client, so the server ends such connections itself (an idle timeout, or a heartbeat or ping the test client does not answer): whether its probes keep the mapping alive was not tested.",
      };
    }
    if (!survived.ok) {
      const error = survived.error ?? "";
      return { met: false, actual: `connection lost: ${error}`, found: { survived: false, error } };
    }
    if (facts.release.releasedAt !== undefined) {
      return {
        met: false,
        actual: "connection lost: the server released it",
        found: { survived: false },
      };
    }
    const span = e.for === undefined ? 0 : parseDuration(e.for);
    if (span > facts.watchedMs + SHORT_WATCH_SLACK_MS) return survivalPredicted(facts, span);
    return {
      met: true,
      actual: survived.byState
        ? "both ends still hold it ESTABLISHED"
        : "an exchange after the outage succeeded",
      found: { survived: true },
    };
  },
  advice: () =>
    "Do not give up on a connection during short outages: keep TCP_USER_TIMEOUT and keepalive limits above the outages you must ride out.",
});
