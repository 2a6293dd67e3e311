/**
 * `othersServed({ within })`: a second, healthy client keeps getting answers, each within
 * this latency, during the fault. A MUST unless the suite says otherwise. A server that died
 * served no one: its death breaks this whatever the samples taken before it say. A server that
 * closed the second client's connection on its own (an idle or login timeout) did not stall it:
 * that client reconnected and only its requests count.
 *
 * @module
 */

import type { Level } from "../../results/schema.ts";
import { type Duration, formatMs, formatMsAgainst, parseDuration } from "../../time/duration.ts";
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
    const samples = facts.obs.bystander ?? [];
    // The figure is the kernel's (request sent → answer received, see the liveness probe): a
    // late runner cannot raise it, so a figure above the bound is the server's and fails.
    const inTime = m.othersMaxLatencyMs <= parseDuration(e.within);
    // A server's own close of the bystander's connection is no stall: it reconnected.
    const closes = samples.filter((s) => s.serverClosed).length;
    return {
      met: timeouts === 0 && inTime,
      actual: `max ${
        formatMsAgainst(m.othersMaxLatencyMs, parseDuration(e.within))
      }, ${timeouts} of ${samples.length} unanswered${
        closes ? `, ${closes} connection(s) closed by the server on its own` : ""
      }`,
      found: { ms: m.othersMaxLatencyMs, unanswered: timeouts, of: samples.length },
    };
  },
  advice: () =>
    "Never block the event loop on one client: use non-blocking sockets and per-connection send timeouts.",
});
