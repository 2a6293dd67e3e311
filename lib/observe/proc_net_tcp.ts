/**
 * The server's socket table as the kernel shows it in `/proc/<pid>/net/tcp` and `tcp6`:
 * the server namespace's view, readable from the root namespace without spawning anything.
 *
 * @module
 */

/** TCP states by the number the kernel prints. */
export const TCP_STATES = {
  1: "ESTABLISHED",
  2: "SYN_SENT",
  3: "SYN_RECV",
  4: "FIN_WAIT1",
  5: "FIN_WAIT2",
  6: "TIME_WAIT",
  7: "CLOSE",
  8: "CLOSE_WAIT",
  9: "LAST_ACK",
  10: "LISTEN",
  11: "CLOSING",
  12: "NEW_SYN_RECV",
} as const;

/** A TCP state name. */
export type TcpState = typeof TCP_STATES[keyof typeof TCP_STATES];

/** The kernel's pending timer on a socket (`tr` column). */
export type TimerKind = "none" | "retransmit" | "keepalive" | "time_wait" | "zero_window_probe";

/** The kernel's timer codes: the same in /proc/net/tcp's `tr` column and sock_diag's answers. */
export const TIMERS: Readonly<Record<number, TimerKind>> = {
  0: "none",
  1: "retransmit",
  2: "keepalive",
  3: "time_wait",
  4: "zero_window_probe",
};

/** USER_HZ: the unit of `tm->when` and `rto` in /proc/net/tcp. */
const CLOCK_TICKS_PER_SECOND = 100;

/** One row of /proc/net/tcp{,6}. */
export interface SocketEntry {
  local: { address: string; port: number };
  remote: { address: string; port: number };
  state: TcpState;
  /** Bytes in the send queue not yet acknowledged (for LISTEN: the backlog limit). */
  txQueue: number;
  /** Bytes received and not yet read by the application (for LISTEN: pending accepts). */
  rxQueue: number;
  timer: TimerKind;
  /** Milliseconds until the timer fires (negative when overdue). */
  timerMs: number;
  /** Unrecovered retransmissions (icsk_retransmits). */
  retransmits: number;
  /** Unanswered keepalive or zero-window probes (icsk_probes_out). */
  probes: number;
  /** Socket inode; 0 for request and TIME_WAIT sockets. */
  inode: number;
  /** Retransmission timeout in milliseconds. */
  rtoMs: number;
}

function hexAddress(hex: string): string {
  if (hex.length === 8) {
    const n = parseInt(hex, 16);
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join(".");
  }
  // IPv6: four 32-bit words, each in host (little-endian) byte order.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const n = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    bytes.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  }
  return compressIpv6(groups);
}

/** RFC 5952 text form: the longest run of two or more zero groups becomes `::`. */
function compressIpv6(groups: string[]): string {
  let best = -1, bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLength).join(":")}`;
}

function endpoint(field: string): { address: string; port: number } {
  const [address = "", port = "0"] = field.split(":");
  return { address: hexAddress(address), port: parseInt(port, 16) };
}

/**
 * An overdue timer: kernels since 3.7 clamp it to 0 (jiffies_delta_to_clock_t), older ones
 * printed the negative value as two's complement in 8 or 16 hex digits.
 */
function signedHex(hex: string): number {
  if (!/^[0-9a-f]{1,16}$/i.test(hex)) return 0;
  return Number(BigInt.asIntN(hex.length > 8 ? 64 : 32, BigInt(`0x${hex}`)));
}

/** Parses the text of /proc/net/tcp or /proc/net/tcp6. */
export function parseProcNetTcp(text: string): SocketEntry[] {
  const entries: SocketEntry[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 12) continue;
    const [txQueue = "0", rxQueue = "0"] = (f[4] ?? "").split(":");
    const [timer = "0", when = "0"] = (f[5] ?? "").split(":");
    const whenTicks = signedHex(when);
    const state = TCP_STATES[parseInt(f[3] ?? "0", 16) as keyof typeof TCP_STATES];
    if (!state) continue;
    entries.push({
      local: endpoint(f[1] ?? ""),
      remote: endpoint(f[2] ?? ""),
      state,
      txQueue: parseInt(txQueue, 16),
      rxQueue: parseInt(rxQueue, 16),
      timer: TIMERS[parseInt(timer, 16)] ?? "none",
      timerMs: (whenTicks * 1000) / CLOCK_TICKS_PER_SECOND,
      retransmits: parseInt(f[6] ?? "0", 16),
      probes: parseInt(f[8] ?? "0", 10),
      inode: parseInt(f[9] ?? "0", 10),
      rtoMs: (parseInt(f[12] ?? "0", 10) * 1000) / CLOCK_TICKS_PER_SECOND,
    });
  }
  return entries;
}

/** The TCP sockets (IPv4 and IPv6, or the tables named) of the network namespace `pid` lives in. */
export function readSocketTable(
  pid: number,
  files: readonly ("tcp" | "tcp6")[] = ["tcp", "tcp6"],
): SocketEntry[] {
  return files.flatMap((file) => {
    try {
      return parseProcNetTcp(Deno.readTextFileSync(`/proc/${pid}/net/${file}`));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
  });
}

/** The inode column of each /proc/net table of sockets that are not TCP. */
const OTHER_SOCKET_TABLES: Record<string, number> = {
  unix: 6,
  udp: 9,
  udp6: 9,
  udplite: 9,
  udplite6: 9,
  raw: 9,
  raw6: 9,
  icmp: 9,
  icmp6: 9,
  netlink: 9,
  packet: 8,
};

/**
 * Inodes of the sockets of the network namespace `pid` lives in that are not TCP (Unix, UDP,
 * raw, ICMP, netlink, packet). A socket fd whose inode is neither here nor in the TCP tables is
 * a TCP socket the kernel no longer lists: one it ended (reset, timed out) whose fd is still
 * held, or one not yet bound or connected.
 */
export function otherSocketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const [file, column] of Object.entries(OTHER_SOCKET_TABLES)) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`/proc/${pid}/net/${file}`);
    } catch {
      continue; // the table does not exist on this kernel, or the process is gone
    }
    for (const line of text.split("\n").slice(1)) {
      const inode = Number(line.trim().split(/\s+/)[column]);
      if (Number.isInteger(inode) && inode > 0) inodes.add(inode);
    }
  }
  return inodes;
}

/** Socket inodes the process holds open, mapped to its fd numbers. */
export function socketFds(pid: number): Map<number, number> {
  const map = new Map<number, number>();
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync(`/proc/${pid}/fd`);
  } catch {
    return map;
  }
  for (const entry of entries) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`));
      if (match) map.set(Number(match[1]), Number(entry.name));
    } catch {
      // closed while we looked
    }
  }
  return map;
}
