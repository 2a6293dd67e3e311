/**
 * The benchmark's memory sampler, on a worker thread of its own (see harness_bench.ts): at once
 * and then every second it posts the memory of the run's labs in flight and the runner's own RSS.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { type HostRole, parseNetnsName, runId } from "../lab/names.ts";
import { listNetns, netnsPids } from "../libc/netns.ts";
import { sampleProcess } from "../observe/server_process.ts";

/** How often lab processes' memory is sampled. */
const RSS_SAMPLE_MS = 1000;

/** The labs in flight and the memory of their client and router processes (kB). */
export interface LabsMemory {
  labs: number;
  rssKb: number;
  pssKb: number;
}

/**
 * Memory of this run's labs now in flight, the server host left out: the processes in each
 * lab's client and router namespaces. Other runs' labs on the machine are not counted.
 * Returns the labs' count and their summed RSS and PSS (kB).
 */
function labsMemory(): LabsMemory {
  const own = runId();
  const labs = new Set<number>();
  const measured: string[] = [];
  for (const name of listNetns()) {
    const host = parseNetnsName(name);
    if (host?.run !== own || !LAB_ROLES.includes(host.role)) continue;
    labs.add(host.index);
    if (host.role !== "srv") measured.push(name);
  }
  const pids = netnsPids(measured);
  return {
    labs: labs.size,
    rssKb: pids.reduce((sum, pid) => sum + sampleProcess(pid).rssKiB, 0),
    pssKb: pids.reduce((sum, pid) => sum + pssKiB(pid), 0),
  };
}

/** A process's proportional set size (kB), 0 once it is gone. */
function pssKiB(pid: number): number {
  try {
    const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    return Number(/^Pss:\s+(\d+) kB$/m.exec(rollup)?.[1] ?? 0);
  } catch {
    return 0; // exited meanwhile
  }
}

const LAB_ROLES: readonly HostRole[] = ["cli", "rtr", "srv"];

const sample = () =>
  self.postMessage({ ...labsMemory(), runnerKb: sampleProcess(Deno.pid).rssKiB });
sample(); // at once: the runner's own memory before any lab, this thread's included
setInterval(sample, RSS_SAMPLE_MS);
