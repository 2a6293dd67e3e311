/**
 * `inspect`: what a running server's kernel will do with a dead client, read from its live
 * sockets (read_server.ts) and the sysctls of its network namespace, through the
 * certification's kernel model (exposure_card.ts). Needs ptrace access to the server (root,
 * CAP_SYS_PTRACE, or its user); reads, never changes.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { runningKernelHz } from "../observe/kernel_hz.ts";
import { readSocketTable, socketFds } from "../observe/proc_net_tcp.ts";
import { readProcStat } from "../process/proc_stat.ts";
import { readProcessTcpSysctls } from "../observe/socket_options.ts";
import { timerWheel } from "../observe/timer_wheel.ts";
import { deadLooking, differFromListener, optionGroups } from "./exposure_card.ts";
import { INSPECT_SCHEMA, type Inspection } from "./inspection_schema.ts";
import { knownTarget, type TargetBinary } from "./known_target.ts";
import {
  DEFAULT_LIMITS,
  InspectRefused,
  type ReadLimits,
  readServerSockets,
} from "./read_server.ts";

/** What the card says of timeouts the application keeps to itself. */
const APPLICATION_TIMEOUTS = "Application timeouts (idle, read, send) are invisible " +
  "from sockets: the server may close sooner than these figures, and a socket the kernel " +
  "ended is freed only when the server closes its fd";

/** The published reports, where a known target's report and its variants' are read. */
const REPORTS_DIR = decodeURIComponent(new URL("../../reports", import.meta.url).pathname);

/**
 * Inspects process `pid` (and its descendants): its sockets, options and TCP_INFO, the card of
 * exposures and the connections that look dead now; when it runs the binary of one of
 * `targets`, that target's published report. Throws InspectRefused for a process that does not
 * exist, holds no TCP socket or may not be read.
 *
 * @example
 * ```ts ignore
 * const inspection = await inspectProcess(1234);
 * console.log(inspection.card.groups[0]?.exposures);
 * ```
 */
export async function inspectProcess(
  pid: number,
  limits: ReadLimits = DEFAULT_LIMITS,
  targets: readonly TargetBinary[] = [],
): Promise<Inspection> {
  const started = performance.now();
  const inspectedAt = new Date().toISOString();
  const sockets = readServerSockets(pid, limits);
  const durationMs = Math.round(performance.now() - started);
  const sysctls = readProcessTcpSysctls(pid);
  const hz = await runningKernelHz();
  const wheel = timerWheel(hz);
  const groups = optionGroups(sockets.listeners, sockets.connections, sysctls, wheel);
  const known = knownTarget(sockets.exe, sockets.name, targets, REPORTS_DIR);
  return {
    schema: INSPECT_SCHEMA,
    clientdown: denoJson.version,
    inspectedAt,
    durationMs,
    process: {
      pid,
      name: sockets.name,
      ...(sockets.exe === undefined ? {} : { exe: sockets.exe }),
      processes: sockets.processes,
      netns: sockets.netns,
    },
    kernel: { release: Deno.osRelease(), ...(hz === undefined ? {} : { hz }) },
    sysctls,
    sockets: {
      listening: sockets.listening,
      connected: sockets.connected,
      read: sockets.listeners.length + sockets.connections.length,
      sampled: sockets.sampled,
      gone: sockets.gone,
    },
    listeners: sockets.listeners,
    connections: sockets.connections,
    card: {
      listenerOptions: sockets.listeners[0]?.settings.timeouts ?? null,
      groups,
      acceptedDiffer: groups.filter((g) => g.source === "accepted").length > 1,
      differFromListener: differFromListener(sockets.listeners, groups),
      applicationTimeouts: APPLICATION_TIMEOUTS,
      ...(known ? { knownTarget: known } : {}),
    },
    deadLooking: deadLooking(sockets.connections, sysctls, wheel),
    notes: sockets.notes,
  };
}

/**
 * The process listening on TCP `port` in this process's network namespace (IPv4 or IPv6):
 * the socket's inode found in /proc/net/tcp{,6}, then the process holding it in /proc/[pid]/fd;
 * of several holders (a forking server's workers), the one whose parent does not hold it too.
 */
export function listeningProcess(port: number): number {
  const inodes = new Set(
    readSocketTable(Deno.pid).filter((e) => e.state === "LISTEN" && e.local.port === port)
      .map((e) => e.inode).filter((inode) => inode !== 0),
  );
  if (!inodes.size) throw new InspectRefused(`Nothing listens on TCP port ${port} here`);
  const holders: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    // None when it exited or is not ours to read.
    if ([...socketFds(pid).keys()].some((inode) => inodes.has(inode))) holders.push(pid);
  }
  const top = holders.filter((pid) => !holders.includes(readProcStat(pid)?.ppid ?? 0));
  if (!top.length) {
    throw new InspectRefused(
      `Port ${port} listens, but no process it may read holds the socket: run inspect as root`,
    );
  }
  return Math.min(...top);
}
