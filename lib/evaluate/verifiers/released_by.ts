/**
 * `releasedBy({ how, within })`: the connection is released within the budget, and by one
 * of the mechanisms named: e.g. `["server-fin", "server-rst"]` for a server that must end
 * dead clients by its own application timeout rather than leave it to kernel timers. The
 * release itself is judged as `released` judges it (leaks, deaths, predictions); the
 * mechanism is the measured label, or the predicted one when the release is predicted.
 *
 * @module
 */

import { type Level, RELEASE_HOWS, type ReleaseHow } from "../../results/schema.ts";
import { type Duration, formatMs, parseDuration } from "../../time/duration.ts";
import { checkDuration } from "./_durations.ts";
import { releasedVerifier } from "./released.ts";
import { defineVerifier } from "./verifier.ts";

/** The data of a `released-by` expectation. */
export interface ReleasedBy {
  kind: "released-by";
  how: ReleaseHow[];
  within: Duration;
  level?: Level;
}

const MECHANISMS: readonly ReleaseHow[] = RELEASE_HOWS.filter((h) => h !== "never");

/** The verifier of `released-by`. */
export const releasedByVerifier = defineVerifier({
  kind: "released-by",
  build: (options: { how: ReleaseHow[]; within: Duration; level?: Level }): ReleasedBy => ({
    kind: "released-by",
    ...options,
  }),
  check: (e: ReleasedBy) =>
    Array.isArray(e.how) && e.how.length > 0 && e.how.every((h) => MECHANISMS.includes(h))
      ? checkDuration(e.within, "within")
      : { field: "how", expected: `a non-empty list of ${MECHANISMS.join(", ")}` },
  describe: (e) => `released by ${e.how.join(" or ")} within ${formatMs(parseDuration(e.within))}`,
  budgetMs: (e) => parseDuration(e.within),
  watchMs: (e) => parseDuration(e.within),
  settled: (e, live) => releasedVerifier.settled({ kind: "released", within: e.within }, live),
  judge(e, facts) {
    const release = releasedVerifier.judge({ kind: "released", within: e.within }, facts);
    if (release.met !== true) return release;
    const how = release.predicted && facts.prediction?.kind === "release"
      ? facts.prediction.how
      : facts.measurements.releasedHow;
    return how !== undefined && e.how.includes(how)
      ? { ...release, actual: `${release.actual}, by ${how}` }
      : {
        ...release,
        met: false,
        actual: `${release.actual}, but by ${how ?? "an unknown mechanism"}`,
      };
  },
  advice: (e, facts) =>
    e.how.every((h) => h.startsWith("server-"))
      ? "End dead or idle clients with an application timeout (close the connection yourself) instead of leaving it to the kernel's timers."
      : releasedVerifier.advice({ kind: "released", within: e.within }, facts),
});
