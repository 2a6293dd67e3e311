/**
 * `othersServed({ within })`: a second, healthy client keeps getting answers, each within
 * this latency, during the fault. A MUST unless the suite says otherwise. A server that died
 * served no one: its death breaks this whatever the samples taken before it say.
 *
 * @module
 */

import type { Level } from "../results/schema.ts";
import { type Duration, formatMs, parseDuration } from "../time/duration.ts";
import { checkDuration } from "./_durations.ts";
import { defineVerifier, serverDeath } from "./verifier.ts";

/** The data of an `others-served` expectation. */
export interface OthersServed {
  kind: "others-served";
  within: Duration;
  level: Level;
}

/** The verifier of `others-served`. */
export const othersServedVerifier = defineVerifier({
  kind: "others-served",
  build: (options: { within?: Duration; level?: Level } = {}): OthersServed => ({
    kind: "others-served",
    within: options.within ?? "1s",
    level: options.level ?? "MUST",
  }),
  check: (e: OthersServed) => checkDuration(e.within, "within"),
  describe: (e) => `other clients served within ${formatMs(parseDuration(e.within))}`,
  budgetMs: (e) => parseDuration(e.within),
  watchMs: () => 0,
  needsBystander: true,
  judge(e, facts) {
    const death = serverDeath(facts);
    if (death) return { met: false, actual: `not served: ${death}` };
    const m = facts.measurements;
    if (m.othersMaxLatencyMs === undefined) {
      return { met: "inconclusive", actual: "no exchanges of the other client recorded" };
    }
    const timeouts = m.othersTimeouts ?? 0;
    const all = facts.obs.bystander?.length ?? 0;
    const within = parseDuration(e.within);
    // An exchange the bystander saw answered came within its own timeout; when that is no more
    // than `within`, a latency figure above it is the probe's own scheduling (the agent stamps
    // the moment after it read), not the server's.
    const bound = facts.obs.bystanderTimeoutMs;
    const inTime = m.othersMaxLatencyMs <= within || (bound !== undefined && bound <= within);
    const counts = { unanswered: timeouts, of: all };
    if (timeouts === 0 && m.othersMaxLatencyMs > within && inTime) {
      // The figure cannot stand beside the pass its own timeout proves: it is left out.
      return {
        met: true,
        actual: `each answered within ${
          formatMs(bound ?? within)
        }, ${timeouts} of ${all} unanswered`,
        found: counts,
      };
    }
    return {
      met: timeouts === 0 && inTime,
      actual: `max ${formatMs(m.othersMaxLatencyMs)}, ${timeouts} of ${all} unanswered`,
      found: { ms: m.othersMaxLatencyMs, ...counts },
    };
  },
  advice: () =>
    "Never block the event loop on one client: use non-blocking sockets and per-connection send timeouts.",
});
