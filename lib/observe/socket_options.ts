/**
 * The server's own socket options, read exactly and without changing the server:
 * `pidfd_getfd` duplicates the server's connected socket into this process, `getsockopt`
 * reads it, the duplicate is closed. Plus the TCP sysctls of the server's namespace, which
 * fill in what the socket does not set.
 *
 * @module
 */

import {
  check,
  getIntOption,
  IPPROTO_TCP,
  libc,
  SO_KEEPALIVE,
  SOL_SOCKET,
  SyscallError,
  TCP_KEEPCNT,
  TCP_KEEPIDLE,
  TCP_KEEPINTVL,
  TCP_RTO_MAX_MS,
  TCP_USER_TIMEOUT,
} from "../libc/libc.ts";
import { inNetns } from "../libc/netns.ts";
import type { SocketOptions, TcpSysctls } from "../results/schema.ts";

/** Declared in the results schema (the leaf of the import graph); re-exported here. */
export type { SocketOptions, TcpSysctls };

/**
 * Reads the options of fd `fd` of process `pid` through a duplicate of the socket
 * (needs ptrace access to the process: root, or the same user without Yama restrictions).
 *
 * @example
 * ```ts ignore
 * const fd = socketFds(server.pid).get(inode); // the connection's socket, by its inode
 * if (fd !== undefined) console.log(readSocketOptions(server.pid, fd).keepalive);
 * ```
 */
export function readSocketOptions(pid: number, fd: number): SocketOptions {
  const pidfd = check("pidfd_open", libc().pidfd_open(pid, 0));
  try {
    const dup = check("pidfd_getfd", libc().pidfd_getfd(pidfd, fd, 0));
    try {
      return timeoutOptions(dup);
    } finally {
      libc().close(dup);
    }
  } finally {
    libc().close(pidfd);
  }
}

/** The timeout options of socket `fd` (in this process: a duplicate of the server's). */
export function timeoutOptions(fd: number): SocketOptions {
  return {
    keepalive: getIntOption(fd, SOL_SOCKET, SO_KEEPALIVE) !== 0,
    keepIdleS: getIntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE),
    keepIntvlS: getIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL),
    keepCnt: getIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT),
    userTimeoutMs: getIntOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT),
    rtoMaxMs: rtoMax(fd),
  };
}

/** TCP_RTO_MAX before Linux 6.15 made it a socket option and a sysctl. */
const FIXED_RTO_MAX_MS = 120_000;
const ENOPROTOOPT = 92;

function rtoMax(fd: number): number {
  try {
    return getIntOption(fd, IPPROTO_TCP, TCP_RTO_MAX_MS);
  } catch (error) {
    if (error instanceof SyscallError && error.errno === ENOPROTOOPT) return FIXED_RTO_MAX_MS;
    throw error;
  }
}

const SYSCTLS = [
  "tcp_keepalive_time",
  "tcp_keepalive_intvl",
  "tcp_keepalive_probes",
  "tcp_retries2",
  "tcp_orphan_retries",
] as const;

/**
 * Reads the TCP sysctls of namespace `netns` (a name under /run/netns, or a namespace file's
 * path) from inside it: /proc/sys/net shows the namespace of the reading thread, so reading
 * from here would give the root namespace's values. The runner's own thread enters it for the
 * reads (inNetns, CAP_SYS_ADMIN): no process is started.
 *
 * @example
 * ```ts ignore
 * const { retries2 } = readTcpSysctls(lab.hosts.server); // 15 by default
 * ```
 */
export function readTcpSysctls(netns: string): TcpSysctls {
  return parseTcpSysctls(inNetns(netns, readSysctlFiles), netns);
}

/**
 * Reads the TCP sysctls of the network namespace process `pid` lives in: directly when it is
 * this process's own (no privilege needed), else from inside it (readTcpSysctls).
 *
 * @example
 * ```ts ignore
 * const { retries2 } = readProcessTcpSysctls(server.pid);
 * ```
 */
export function readProcessTcpSysctls(pid: number): TcpSysctls {
  const where = `/proc/${pid}/ns/net`;
  if (Deno.readLinkSync(where) === Deno.readLinkSync("/proc/thread-self/ns/net")) {
    return parseTcpSysctls(readSysctlFiles(), where);
  }
  return readTcpSysctls(where);
}

const SYSCTL_FILES = SYSCTLS.map((s) => `/proc/sys/net/ipv4/${s}`);

function readSysctlFiles(): string {
  return SYSCTL_FILES.map((f) => Deno.readTextFileSync(f)).join(" ");
}

function parseTcpSysctls(text: string, where: string): TcpSysctls {
  const values = text.trim().split(/\s+/).map(Number);
  if (values.length !== SYSCTLS.length || values.some((v) => !Number.isInteger(v))) {
    throw new SyntaxError(`Unexpected TCP sysctls in "${where}": "${text.trim()}"`);
  }
  const [keepaliveTimeS = 0, keepaliveIntvlS = 0, keepaliveProbes = 0, retries2 = 0] = values;
  return {
    keepaliveTimeS,
    keepaliveIntvlS,
    keepaliveProbes,
    retries2,
    orphanRetries: values[4] ?? 0,
  };
}
