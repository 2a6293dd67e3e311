/**
 * `resourcesRestored()`: the server's client connections and memory return to their baseline
 * (taken just before the fault) after the clients died. The connections are the TCP sockets the
 * server's process tree holds to client hosts (sampleServer): a worker process the server
 * started meanwhile or a backend pool adds fds but no client connection, and is no leak. The
 * runner watches until the connections and the memory are back or the deadline ends (a server
 * may keep what a burst of clients made it allocate for a while, e.g. varnish's idle worker
 * threads until `thread_pool_timeout`). fds are reported beside.
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
 * freed pages. Connections are exact; RSS only catches leaks far beyond what a runtime keeps.
 * RSS counts the processes that were there at the fault.
 */
const RSS_TOLERANCE = { factor: 1.5, kib: 16_384 };

/** Whether `afterKiB` of resident memory counts as back to a baseline of `beforeKiB`. */
function memoryBack(beforeKiB: number, afterKiB: number): boolean {
  return afterKiB <= beforeKiB * RSS_TOLERANCE.factor + RSS_TOLERANCE.kib;
}

/** The verifier of `resources-restored`. */
export const resourcesRestoredVerifier = defineVerifier({
  kind: "resources-restored",
  build: (): ResourcesRestored => ({ kind: "resources-restored" }),
  describe: () => "client connections and memory back to baseline",
  watchMs: () => Infinity,
  settled: (_e, live) =>
    live.clientConnections.atFault !== undefined &&
    live.clientConnections.now <= live.clientConnections.atFault &&
    (live.memory === undefined || memoryBack(live.memory.atFaultKiB, live.memory.nowKiB)),
  judge(_e: ResourcesRestored, facts) {
    const b = facts.obs.server.before, a = facts.obs.server.after;
    if (!b || !a) return { met: false, actual: "server process gone" };
    // Memory of the processes there at the fault: a worker started meanwhile is no leak.
    const kept = new Set(b.processes.map((p) => p.pid));
    const rssOf = (s: typeof a) =>
      s.processes.filter((p) => kept.has(p.pid)).reduce((sum, p) => sum + p.rssKiB, 0);
    const [rssBefore, rssAfter] = [rssOf(b), rssOf(a)];
    const rssOk = memoryBack(rssBefore, rssAfter);
    const started = a.processes.filter((p) => !kept.has(p.pid)).length;
    return {
      met: a.clientConnections <= b.clientConnections && rssOk,
      actual: `client connections ${b.clientConnections} → ${a.clientConnections}, ` +
        `RSS ${rssBefore} → ${rssAfter} KiB, fds ${b.fds} → ${a.fds}` +
        (started ? ` (${started} process(es) started meanwhile, not counted)` : ""),
    };
  },
  advice: () =>
    "Release every resource of a dead connection: close its fd and free its buffers on error or timeout.",
});
