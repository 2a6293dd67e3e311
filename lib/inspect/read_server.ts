/**
 * Reads a running server's TCP sockets without touching them: its process tree's fds are
 * matched by inode to the socket table of its network namespace, and each socket is
 * duplicated with `pidfd_getfd`, read with `getsockopt` (options and TCP_INFO) and closed at
 * once: a duplicate held longer would keep the socket alive past the server's own close.
 * Nothing is set, no byte is sent, no signal is delivered. Bounded in count and time.
 *
 * Two effects remain, both of the kernel's receiving an fd (the certification's option reads
 * have them too): `__receive_sock` tags the socket with the reader's cgroup v1 `net_cls` classid
 * and `net_prio` index (a note says so where those controllers are mounted: run inspect in the
 * server's cgroup there); and should the server close its fd in the microseconds the duplicate
 * is held, closing the duplicate is the last close, as the server's own would have been.
 *
 * @module
 */

import {
  check,
  getIntOption,
  IPPROTO_TCP,
  libc,
  SO_LINGER,
  SO_RCVBUF,
  SO_SNDBUF,
  SOL_SOCKET,
  SyscallError,
  TCP_NODELAY,
} from "../libc/libc.ts";
import { readSocketTable, type SocketEntry } from "../observe/proc_net_tcp.ts";
import { processTree } from "../process/process_tree.ts";
import { timeoutOptions } from "../observe/socket_options.ts";
import type { InspectedSocket, SocketSettings } from "./inspection_schema.ts";
import { readTcpInfo } from "../observe/tcp_info.ts";

/** A reason inspect cannot go on, for the command line to print on one line (exit 2). */
export class InspectRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InspectRefused";
  }
}

/** How much one inspection reads at most. */
export interface ReadLimits {
  /** Connected sockets read at most; beyond, an even sample of them. */
  maxConnections: number;
  /** Listening sockets read at most. */
  maxListeners: number;
  /** Milliseconds of reading at most; what is left unread then counts as not sampled. */
  maxMs: number;
}

/** The default bounds: a server with 100,000 connections is sampled, and read in seconds. */
export const DEFAULT_LIMITS: ReadLimits = { maxConnections: 2000, maxListeners: 64, maxMs: 10_000 };

/** What was read of a server's sockets. */
export interface ServerSockets {
  pid: number;
  name: string;
  exe: string | undefined;
  processes: number;
  netns: string;
  listeners: InspectedSocket[];
  connections: InspectedSocket[];
  listening: number;
  connected: number;
  sampled: boolean;
  gone: number;
  notes: string[];
}

const EPERM = 1, EBADF = 9, ESRCH = 3;

/** What to do without the right to read another process's sockets, in one sentence. */
const PTRACE_ADVICE = "run inspect as root, with CAP_SYS_PTRACE, or as the server's " +
  "user where kernel.yama.ptrace_scope is 0";

/**
 * Reads every listening and connected TCP socket (IPv4 and IPv6) of `pid` and its descendants.
 * Throws InspectRefused when the process does not exist, holds no TCP socket, or may not be
 * read by this process (no ptrace rights over it).
 *
 * @example
 * ```ts ignore
 * const sockets = readServerSockets(server.pid);
 * console.log(sockets.connections.map((s) => s.settings.timeouts.keepalive));
 * ```
 */
export function readServerSockets(pid: number, limits: ReadLimits = DEFAULT_LIMITS): ServerSockets {
  const started = performance.now();
  const name = processName(pid);
  const netns = readLink(`/proc/${pid}/ns/net`) ?? "unknown";
  const tree = processTree(pid);
  // Each socket once, with the first process of the tree (breadth first) that holds it.
  const held = new Map<number, { pid: number; fd: number }>();
  for (const holder of tree) {
    for (const [inode, fd] of socketFdsOf(holder, holder === pid)) {
      if (!held.has(inode)) held.set(inode, { pid: holder, fd });
    }
  }
  const table = new Map<number, SocketEntry>();
  for (const holder of new Set([...held.values()].map((h) => h.pid))) {
    for (const entry of readSocketTable(holder)) {
      if (entry.inode !== 0 && held.has(entry.inode)) table.set(entry.inode, entry);
    }
  }
  const listening = [...table.values()].filter((e) => e.state === "LISTEN");
  const connected = [...table.values()].filter((e) => e.state !== "LISTEN");
  if (!listening.length && !connected.length) {
    throw new InspectRefused(
      `Process ${pid} ("${name}") and its ${tree.length - 1} descendant(s) hold no TCP socket`,
    );
  }
  const notes: string[] = [];
  const chosen = evenSample(connected, limits.maxConnections);
  if (chosen.length < connected.length) {
    notes.push(
      `${connected.length} connected sockets: an even sample of ${chosen.length} was read`,
    );
  }
  const pidfds = new Map<number, number>();
  let gone = 0, complete = false;
  const read = (entries: readonly SocketEntry[], into: InspectedSocket[]) => {
    for (const entry of entries) {
      if (performance.now() - started > limits.maxMs) return false;
      const holder = held.get(entry.inode)!;
      const socket = readOne(holder, entry, pidfds);
      if (socket) into.push(socket);
      else gone++;
    }
    return true;
  };
  const listeners: InspectedSocket[] = [], connections: InspectedSocket[] = [];
  try {
    complete = read(listening.slice(0, limits.maxListeners), listeners) &&
      read(chosen, connections);
    if (!complete) {
      notes.push(
        `Reading stopped after ${limits.maxMs} ms: ${connections.length} of ` +
          `${connected.length} connected sockets read`,
      );
    }
  } finally {
    for (const pidfd of pidfds.values()) libc().close(pidfd);
  }
  const retagged = cgroupV1NetControllers();
  if (retagged.length) {
    notes.push(
      `cgroup v1 ${retagged.join(" and ")} mounted: each socket read now carries this ` +
        "process's classid and priority index (the kernel's __receive_sock); run inspect in " +
        "the server's cgroup to keep them",
    );
  }
  if (listening.length > limits.maxListeners) {
    notes.push(`${listening.length} listening sockets: the first ${limits.maxListeners} read`);
  }
  return {
    pid,
    name,
    exe: readLink(`/proc/${pid}/exe`),
    processes: tree.length,
    netns,
    listeners,
    connections,
    listening: listening.length,
    connected: connected.length,
    sampled: chosen.length < connected.length || !complete,
    gone,
    notes,
  };
}

/** Up to `max` of `all`, evenly spread over them. */
function evenSample<T>(all: readonly T[], max: number): T[] {
  if (all.length <= max) return [...all];
  return Array.from({ length: max }, (_, i) => all[Math.floor((i * all.length) / max)]!);
}

function processName(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new InspectRefused(`No process with PID ${pid}`);
    }
    throw error;
  }
}

function readLink(path: string): string | undefined {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return undefined;
  }
}

/** Socket inodes the process holds, to its fds; for the server itself, refusal when unreadable. */
function socketFdsOf(pid: number, required: boolean): Map<number, number> {
  const map = new Map<number, number>();
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`/proc/${pid}/fd`)];
  } catch (error) {
    if (required && error instanceof Deno.errors.PermissionDenied) {
      throw new InspectRefused(
        `May not read the fds of process ${pid} (no ptrace access to it): ${PTRACE_ADVICE}`,
      );
    }
    if (required && error instanceof Deno.errors.NotFound) {
      throw new InspectRefused(`No process with PID ${pid}`);
    }
    return map; // a descendant that exited meanwhile, or one of another user
  }
  for (const entry of entries) {
    let target = "";
    try {
      target = Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`);
    } catch (error) {
      // Root without CAP_SYS_PTRACE lists the fds of another user's process, not their targets.
      if (required && error instanceof Deno.errors.PermissionDenied) {
        throw new InspectRefused(
          `May not read the fds of process ${pid} (no ptrace access to it): ${PTRACE_ADVICE}`,
        );
      }
      continue; // closed meanwhile
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) map.set(Number(match[1]), Number(entry.name));
  }
  return map;
}

/** Reads one socket through a duplicate closed at once; undefined when it is gone meanwhile. */
function readOne(
  holder: { pid: number; fd: number },
  entry: SocketEntry,
  pidfds: Map<number, number>,
): InspectedSocket | undefined {
  let pidfd = pidfds.get(holder.pid);
  if (pidfd === undefined) {
    const opened = libc().pidfd_open(holder.pid, 0);
    if (opened < 0) return undefined; // the process exited
    pidfds.set(holder.pid, pidfd = opened);
  }
  let dup: number;
  try {
    dup = check("pidfd_getfd", libc().pidfd_getfd(pidfd, holder.fd, 0));
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    if (error.errno === EBADF || error.errno === ESRCH) return undefined;
    if (error.errno === EPERM) {
      throw new InspectRefused(
        `May not duplicate the sockets of process ${holder.pid} (pidfd_getfd: EPERM, no ptrace ` +
          `access to it): ${PTRACE_ADVICE}`,
      );
    }
    throw error;
  }
  try {
    // The fd may have been closed and reused for another file between listing and duplicating.
    if (readLink(`/proc/self/fd/${dup}`) !== `socket:[${entry.inode}]`) return undefined;
    const tcpInfo = readTcpInfo(dup);
    const { state: _, ...info } = tcpInfo;
    return {
      pid: holder.pid,
      fd: holder.fd,
      inode: entry.inode,
      state: tcpInfo.state,
      local: entry.local,
      remote: entry.remote,
      timer: entry.timer,
      txQueue: entry.txQueue,
      rxQueue: entry.rxQueue,
      settings: settingsOf(dup),
      tcpInfo: info,
    };
  } finally {
    libc().close(dup);
  }
}

function settingsOf(fd: number): SocketSettings {
  const linger = new Int32Array(2);
  const len = new Uint32Array([8]);
  check("getsockopt(SO_LINGER)", libc().getsockopt(fd, SOL_SOCKET, SO_LINGER, linger, len));
  return {
    timeouts: timeoutOptions(fd),
    linger: { on: linger[0] !== 0, seconds: linger[1] ?? 0 },
    sndbufBytes: getIntOption(fd, SOL_SOCKET, SO_SNDBUF),
    rcvbufBytes: getIntOption(fd, SOL_SOCKET, SO_RCVBUF),
    nodelay: getIntOption(fd, IPPROTO_TCP, TCP_NODELAY) !== 0,
  };
}

/** The cgroup v1 controllers that tag a received socket, where mounted (/proc/cgroups). */
function cgroupV1NetControllers(): string[] {
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/cgroups");
  } catch {
    return [];
  }
  return text.split("\n").flatMap((line) => {
    const [name = "", hierarchy = "0"] = line.split(/\s+/);
    return (name === "net_cls" || name === "net_prio") && hierarchy !== "0" ? [name] : [];
  });
}
