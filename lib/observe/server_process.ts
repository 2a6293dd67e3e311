/**
 * The server process as the kernel sees it: alive or not, how many fds it holds, how much
 * memory it uses, and how it ended (a SIGPIPE death is a verdict, not a harness error).
 *
 * @module
 */

import { BYSTANDER } from "../lab/address_plan.ts";
import { otherSocketInodes, readSocketTable, socketFds } from "./proc_net_tcp.ts";
import { processTree } from "../process/process_tree.ts";
import { monotonicMs } from "../libc/libc.ts";
import { processAlive } from "../process/proc_stat.ts";
import type { Child } from "../process/spawn.ts";

/** One look at the server process. */
export interface ProcessSample {
  /** monotonicMs() of the sample. */
  at: number;
  /** False once the process has exited (a zombie counts as exited). */
  alive: boolean;
  /** Open fds; 0 once exited. */
  fds: number;
  /** Resident set size in KiB (VmRSS); 0 once exited. */
  rssKiB: number;
}

/** One look at the server: its process tree summed, and the client connections it holds. */
export interface ServerSample extends ProcessSample {
  /**
   * TCP connections the tree holds open to peers of other hosts, the bystander left out
   * ({@linkcode clientConnections}).
   */
  clientConnections: number;
  /** Each live process of the tree: its pid and RSS in KiB (memory is compared per process). */
  processes: { pid: number; rssKiB: number }[];
}

/** How the server process ended. */
export interface ProcessExit {
  /** monotonicMs() when its exit was seen. */
  at: number;
  code: number;
  /** The signal that killed it, e.g. "SIGPIPE", or null when it exited by itself. */
  signal: Deno.Signal | null;
}

/**
 * Samples process `pid` from /proc.
 *
 * @example
 * ```ts
 * import { sampleProcess } from "./server_process.ts";
 * const { alive, fds } = sampleProcess(Deno.pid);
 * ```
 */
export function sampleProcess(pid: number): ProcessSample {
  const at = monotonicMs();
  const gone = { at, alive: false, fds: 0, rssKiB: 0 };
  if (!processAlive(pid)) return gone;
  try {
    const rssKiB = vmRssKiB(pid);
    let fds = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) fds++;
    return { at, alive: true, fds, rssKiB };
  } catch (error) {
    if (exitedWhileRead(error)) return gone;
    throw error;
  }
}

/** The resident set size of process `pid` in KiB (VmRSS); 0 once it has exited. */
export function residentKiB(pid: number): number {
  try {
    return vmRssKiB(pid);
  } catch (error) {
    if (exitedWhileRead(error)) return 0;
    throw error;
  }
}

function vmRssKiB(pid: number): number {
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return rss ? Number(rss[1]) : 0;
}

/** A process that exits while it is read: its /proc files go (ENOENT) or refuse (ESRCH). */
function exitedWhileRead(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || /\(os error 3\)/.test(String(error));
}

/** Resolves, once `child` has exited, with when and how. */
export async function recordExit(child: Child): Promise<ProcessExit> {
  const status = await child.status;
  return { at: monotonicMs(), code: status.code, signal: status.signal };
}

function isLoopback(address: string): boolean {
  const v4 = address.replace(/^::ffff:/, "");
  return v4.startsWith("127.") || address === "::1";
}

/**
 * The client connections the processes `pids` (one network namespace) hold open, each socket
 * once however many processes share it:
 * - TCP sockets the kernel lists that are not listening, whose peer is another host (neither
 *   loopback nor the socket's own address) and not the bystander (a live client, there before
 *   and after);
 * - TCP sockets the kernel no longer lists whose fd is still held: a connection it ended
 *   (reset, timed out) that the server never closed, a leak (any socket fd in none of the
 *   namespace's socket tables; the fds are read before the tables, so a socket made meanwhile
 *   is not one of them).
 * A dead client's connection is one of these until the server releases it; a worker process
 * started meanwhile, or a pool of connections to a backend over a Unix socket or loopback, is
 * not: these are what "back to baseline" compares.
 */
export function clientConnections(pids: readonly number[]): number {
  if (pids.length === 0) return 0;
  const held = pids.flatMap((pid) => [...socketFds(pid).keys()]);
  const bystander = new Set([BYSTANDER.v4, BYSTANDER.v6, `::ffff:${BYSTANDER.v4}`]);
  const tcp = new Map(readSocketTable(pids[0]!).map((e) => [e.inode, e]));
  const other = otherSocketInodes(pids[0]!);
  const counted = new Set<number>();
  for (const inode of held) {
    const e = tcp.get(inode);
    const client = e
      ? e.state !== "LISTEN" && !isLoopback(e.remote.address) &&
        e.remote.address !== e.local.address && !bystander.has(e.remote.address)
      : !other.has(inode);
    if (client) counted.add(inode);
  }
  return counted.size;
}

/**
 * The server as a whole: fds and RSS summed over its process tree (servers with a process per
 * connection hold client sockets in their children), and the client connections the tree
 * holds; alive when its first process is.
 */
export function sampleServer(pid: number): ServerSample {
  const pids = processTree(pid);
  const samples = pids.map((p) => ({ pid: p, ...sampleProcess(p) }));
  const first = samples[0] ?? { pid, ...sampleProcess(pid) };
  const live = samples.filter((s) => s.alive);
  return {
    at: first.at,
    alive: first.alive,
    fds: live.reduce((sum, s) => sum + s.fds, 0),
    rssKiB: live.reduce((sum, s) => sum + s.rssKiB, 0),
    clientConnections: first.alive ? clientConnections(pids) : 0,
    processes: live.map((s) => ({ pid: s.pid, rssKiB: s.rssKiB })),
  };
}
