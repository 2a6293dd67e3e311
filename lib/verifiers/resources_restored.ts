/**
 * `resourcesRestored()`: the server's fds and memory return to their baseline (taken just
 * before the fault, the bystander's connection included) after the clients died. The runner
 * watches until the fds are back or the deadline ends.
 *
 * @module
 */

import { defineVerifier } from "./verifier.ts";

/** The data of a `resources-restored` expectation. */
export interface ResourcesRestored {
  kind: "resources-restored";
}

/**
 * RSS may grow this much and still count as back to baseline: allocators and JIT heaps keep
 * freed pages. fds are exact; RSS only catches leaks far beyond what a runtime keeps.
 */
const RSS_TOLERANCE = { factor: 1.5, kib: 16_384 };

/** The verifier of `resources-restored`. */
export const resourcesRestoredVerifier = defineVerifier({
  kind: "resources-restored",
  build: (): ResourcesRestored => ({ kind: "resources-restored" }),
  describe: () => "fds and memory back to baseline",
  watchMs: () => Infinity,
  settled: (_e, live) => live.fds.atFault !== undefined && live.fds.now <= live.fds.atFault,
  judge(_e: ResourcesRestored, facts) {
    const b = facts.obs.server.before, a = facts.obs.server.after;
    if (!b || !a) return { met: false, actual: "server process gone" };
    const rssOk = a.rssKiB <= b.rssKiB * RSS_TOLERANCE.factor + RSS_TOLERANCE.kib;
    return {
      met: a.fds <= b.fds && rssOk,
      actual: `fds ${b.fds} → ${a.fds}, RSS ${b.rssKiB} → ${a.rssKiB} KiB`,
    };
  },
  advice: () =>
    "Release every resource of a dead connection: close its fd and free its buffers on error or timeout.",
});
