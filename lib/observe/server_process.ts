/**
 * The server process as the kernel sees it: alive or not, how many fds it holds, how much
 * memory it uses, and how it ended (a SIGPIPE death is a verdict, not a harness error).
 *
 * @module
 */

import { processTree } from "./process_tree.ts";
import { monotonicMs } from "../libc/libc.ts";
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
  try {
    // The state follows the parenthesised command name, which may itself hold spaces.
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return gone;
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    let fds = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) fds++;
    return { at, alive: true, fds, rssKiB: rss ? Number(rss[1]) : 0 };
  } catch (error) {
    // A process that exits while it is read: its /proc files go (ENOENT) or refuse (ESRCH).
    if (error instanceof Deno.errors.NotFound || /\(os error 3\)/.test(String(error))) {
      return gone;
    }
    throw error;
  }
}

/** Resolves, once `child` has exited, with when and how. */
export async function recordExit(child: Child): Promise<ProcessExit> {
  const status = await child.status;
  return { at: monotonicMs(), code: status.code, signal: status.signal };
}

/**
 * The server as a whole: fds and RSS summed over its process tree (servers with a process per
 * connection hold client sockets in their children); alive when its first process is.
 */
export function sampleServer(pid: number): ProcessSample {
  const samples = processTree(pid).map(sampleProcess);
  const first = samples[0] ?? sampleProcess(pid);
  const live = samples.filter((s) => s.alive);
  return {
    at: first.at,
    alive: first.alive,
    fds: live.reduce((sum, s) => sum + s.fds, 0),
    rssKiB: live.reduce((sum, s) => sum + s.rssKiB, 0),
  };
}
