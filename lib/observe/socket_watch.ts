/**
 * Watches one server-side connection in the server's socket table, every 15–50 ms, and
 * records a typed event whenever what the kernel shows about it changes: state, queues,
 * timer, retransmissions, probes, and whether the server process still holds an fd for it.
 *
 * @module
 */

import { monotonicMs, sockaddr } from "../libc/libc.ts";
import { processAlive } from "../process/proc_stat.ts";
import { readSocketTable, type SocketEntry, socketFds, type TcpState } from "./proc_net_tcp.ts";

/** A TCP endpoint. */
export interface Endpoint {
  address: string;
  port: number;
}

/**
 * Where the connection stands for the server:
 * - `pending`: in the table, never held by the server yet (still in the accept queue);
 * - `held`: in the table and held by the server (a socket inode, and its fd when found);
 * - `orphaned`: still in the table but the server closed it (FIN_WAIT, LAST_ACK, TIME_WAIT...);
 * - `closed_fd_held`: the kernel closed it (gone from the table) while the server still holds
 *   its fd: a leak until the server notices;
 * - `freed`: gone from the table and no fd held.
 */
export type Holding = "pending" | "held" | "orphaned" | "closed_fd_held" | "freed";

/** The fields whose change makes an event. */
export type WatchedField =
  | "state"
  | "txQueue"
  | "rxQueue"
  | "timer"
  | "retransmits"
  | "probes"
  | "holding";

/**
 * What the kernel showed about the connection at one moment: the socket table's own
 * counters (see SocketEntry), and what they mean for the server's hold on it.
 */
export interface SocketEvent
  extends
    Pick<SocketEntry, "txQueue" | "rxQueue" | "timer" | "timerMs" | "retransmits" | "probes"> {
  /** monotonicMs() of the sample. */
  at: number;
  /**
   * The TCP state. `CLOSE` when gone from the table but an fd is still held: the kernel
   * unhashes a socket as it enters CLOSE. `GONE` once neither table nor fd has it.
   */
  state: TcpState | "GONE";
  holding: Holding;
  /** The socket's inode; 0 while no process holds the socket. */
  inode: number;
  /** The server's fd for this connection, when one of the watched processes holds it. */
  fd: number | undefined;
  /** The fields that changed since the previous event (all of them on the first). */
  changed: WatchedField[];
  /**
   * monotonicMs() of the sample before this one, when there was one: what this event shows
   * happened after it (the watch records changes only).
   */
  previousSampleAt?: number;
}

/** How to watch. */
export interface SocketWatchOptions {
  /** Milliseconds between samples (default 10). */
  intervalMs?: number;
  /** The server's listening port, to tell this connection from others of the same peer. */
  localPort?: number;
  /** Processes whose fds count as the server's (default: the watched pid only). */
  holders?: readonly number[];
  /** Sampling stops by itself after this many milliseconds (default one hour; the
   * runner passes the bound of its scenario). */
  lifetimeMs?: number;
  /**
   * Looks the connection up (connection_lookup.ts: two system calls); without it, each sample
   * reads the namespace's /proc socket tables, which costs a walk of the kernel's hashes.
   */
  lookup?: () => SocketEntry | undefined;
}

/** A running watch over one connection. */
export interface SocketWatch {
  /** Every event recorded so far, oldest first. */
  readonly events: readonly SocketEvent[];
  /**
   * The first recorded event (past or future) that satisfies `predicate`, or undefined when
   * none came within `timeoutMs` or the watch was stopped.
   */
  waitFor(
    predicate: (event: SocketEvent) => boolean,
    timeoutMs: number,
  ): Promise<SocketEvent | undefined>;
  /** Stops sampling and returns its record: every event, oldest first. Pending waits resolve with undefined. */
  stop(): SocketEvent[];
}

/** How long a full fd scan that did not find the socket stands before it is repeated. */
const RESCAN_MS = 200;

/** After this long without a change, a watch samples every QUIET_INTERVAL_MS instead. */
const QUIET_AFTER_MS = 1000;
/** The quiet sampling interval: the granularity of a release that follows a long silence. */
const QUIET_INTERVAL_MS = 50;
/** The longest a watch runs or a waitFor waits: the longest timer the runtime can set. */
const MAX_WAIT_MS = 2 ** 31 - 1;
/** A watch's lifetime unless told: the runner passes its scenario's own bound. */
const DEFAULT_LIFETIME_MS = 3_600_000;

/** Whether two textual addresses are the same, an IPv4 one equal to its IPv4-mapped form. */
export function sameAddress(a: string, b: string): boolean {
  const ka = addressKey(a), kb = addressKey(b);
  return ka.length === kb.length && ka.every((byte, i) => byte === kb[i]);
}

function addressKey(address: string): number[] {
  const raw = sockaddr(address, 0);
  if (raw.length === 16) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...raw.subarray(4, 8)];
  return [...raw.subarray(8, 24)];
}

/** Whether a table row is the server side of the connection from `peer`. */
export function isConnectionFrom(entry: SocketEntry, peer: Endpoint, localPort?: number): boolean {
  return entry.state !== "LISTEN" && entry.remote.port === peer.port &&
    (localPort === undefined || entry.local.port === localPort) &&
    sameAddress(entry.remote.address, peer.address);
}

/**
 * States only the server's own close leads to: a connection in one of them without a socket
 * was closed by the server, even if the watch never saw it held (a server that answers and
 * closes at once, between two samples). ESTABLISHED or CLOSE_WAIT without one is still in the
 * accept queue.
 */
export const CLOSED_BY_SERVER: ReadonlySet<TcpState> = new Set([
  "FIN_WAIT1",
  "FIN_WAIT2",
  "TIME_WAIT",
  "CLOSING",
  "LAST_ACK",
]);

const WATCHED: readonly Exclude<WatchedField, "holding">[] = [
  "state",
  "txQueue",
  "rxQueue",
  "timer",
  "retransmits",
  "probes",
];

/**
 * Starts watching the connection from `peer` in the socket table of server process `pid`.
 * Call `stop()` when done.
 *
 * @example
 * ```ts ignore
 * const watch = watchSocket(server.pid, { address: "192.0.2.2", port: 41000 }, { localPort: 80 });
 * try {
 *   await watch.waitFor((e) => e.holding !== "held" && e.holding !== "pending", 10_000);
 *   console.log(connectionRelease(watch.events));
 * } finally {
 *   watch.stop();
 * }
 * ```
 */
export function watchSocket(
  pid: number,
  peer: Endpoint,
  options: SocketWatchOptions = {},
): SocketWatch {
  const intervalMs = options.intervalMs ?? 10;
  if (!(intervalMs >= 1 && intervalMs <= 1000)) {
    throw new RangeError(`Invalid watch interval: "${intervalMs}" ms (1 to 1000)`);
  }
  const lifetimeMs = options.lifetimeMs ?? DEFAULT_LIFETIME_MS;
  if (!(lifetimeMs >= 0 && lifetimeMs <= MAX_WAIT_MS)) {
    throw new RangeError(`Invalid watch lifetime: "${lifetimeMs}" ms (0 to ${MAX_WAIT_MS})`);
  }
  const endAt = monotonicMs() + lifetimeMs;
  const holders = options.holders ?? [pid];
  const events: SocketEvent[] = [];
  const waiters = new Set<(event: SocketEvent | undefined) => void>();
  let inode = 0;
  let owner: { pid: number; fd: number } | undefined;
  let missed = { inode: 0, at: 0 };
  let everHeld = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let sampledAt: number | undefined; // the last sample's moment

  // The fd of `inode` among the holders. The last one found costs one readlink; a full scan
  // (a readlink per fd of every holder) that found nothing is not repeated for a while.
  const findFd = (now: number): { pid: number; fd: number } | undefined => {
    if (inode === 0) return undefined;
    if (owner && linksTo(owner.pid, owner.fd, inode)) return owner;
    if (missed.inode === inode && now - missed.at < RESCAN_MS) return undefined;
    for (const holder of holders) {
      const fd = socketFds(holder).get(inode);
      if (fd !== undefined) return { pid: holder, fd };
    }
    missed = { inode, at: now };
    return undefined;
  };

  // Once the connection is found, only its own table is read (half the work per sample).
  let table: "tcp" | "tcp6" | undefined;
  const lookup = options.lookup;
  const rowsNow = (): SocketEntry[] => {
    if (lookup) {
      const row = lookup();
      return row ? [row] : [];
    }
    for (const file of table ? [table] : ["tcp", "tcp6"] as const) {
      const rows = readSocketTable(pid, [file]).filter((e) =>
        isConnectionFrom(e, peer, options.localPort)
      );
      if (rows.length) {
        table = file;
        return rows;
      }
    }
    return [];
  };

  const sample = (): SocketEvent | undefined => {
    const rows = rowsNow();
    const row = rows.find((e) => inode !== 0 && e.inode === inode) ??
      rows.find((e) => e.inode !== 0) ?? rows[0];
    const at = monotonicMs();
    const previous = sampledAt === undefined ? {} : { previousSampleAt: sampledAt };
    sampledAt = at;
    if (row && row.inode !== 0) inode = row.inode;
    const last = events.at(-1);
    if (row) {
      const holding: Holding = row.inode !== 0
        ? "held"
        : everHeld || CLOSED_BY_SERVER.has(row.state)
        ? "orphaned"
        : "pending";
      const event = { at, ...counters(row), holding, inode: row.inode, fd: undefined, changed: [] };
      // Nothing changed: no event, and no need to find the fd (a readlink per sample).
      if (last && unchanged(last, event)) return undefined;
      owner = findFd(at);
      return { ...event, fd: owner?.fd, ...previous };
    }
    if (!last) return undefined; // not seen yet
    owner = findFd(at);
    // A server that has exited shows no socket table at all: read after its death, the table
    // says nothing of when its sockets went (its death may have freed them). Alive once the
    // table was read, it read the truth.
    if (!processAlive(pid)) return undefined;
    const idle = { txQueue: 0, rxQueue: 0, timer: "none" as const, timerMs: 0 };
    const base = { ...idle, retransmits: last.retransmits, probes: last.probes, changed: [] };
    return owner
      ? { at, ...base, state: "CLOSE", holding: "closed_fd_held", inode, fd: owner.fd, ...previous }
      : { at, ...base, state: "GONE", holding: "freed", inode, fd: undefined, ...previous };
  };

  const record = (event: SocketEvent): void => {
    const last = events.at(-1);
    const changed = changedFields(last, event);
    if (changed.length === 0) return;
    event.changed = changed;
    events.push(event);
    if (event.holding === "held") everHeld = true;
    for (const waiter of waiters) waiter(event);
  };

  const tick = (): void => {
    timer = undefined;
    if (stopped) return;
    const event = sample();
    if (event) record(event);
    // While nothing changes, sample less often: many watches run at once.
    const now = monotonicMs();
    const quiet = now - (events.at(-1)?.at ?? now) > QUIET_AFTER_MS;
    if (now < endAt) {
      timer = setTimeout(tick, quiet ? Math.max(intervalMs, QUIET_INTERVAL_MS) : intervalMs);
    }
  };
  tick();

  return {
    events,
    waitFor(predicate, timeoutMs) {
      if (!(timeoutMs >= 0 && timeoutMs <= MAX_WAIT_MS)) {
        throw new RangeError(`Invalid wait: "${timeoutMs}" ms (0 to ${MAX_WAIT_MS})`);
      }
      const seen = events.find(predicate);
      if (seen || stopped) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const done = (event: SocketEvent | undefined): void => {
          if (event !== undefined && !predicate(event)) return;
          clearTimeout(deadline);
          waiters.delete(done);
          resolve(event);
        };
        const deadline = setTimeout(() => done(undefined), timeoutMs);
        waiters.add(done);
      });
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      for (const waiter of waiters) waiter(undefined);
      return [...events];
    },
  };
}

/** The fields of `event` that differ from `last` (all of them without one). */
function changedFields(
  last: SocketEvent | undefined,
  event: Pick<SocketEvent, WatchedField>,
): WatchedField[] {
  const changed: WatchedField[] = WATCHED.filter((f) => !last || last[f] !== event[f]);
  if (!last || last.holding !== event.holding) changed.push("holding");
  return changed;
}

function unchanged(last: SocketEvent, event: Pick<SocketEvent, WatchedField>): boolean {
  return changedFields(last, event).length === 0;
}

function counters(row: SocketEntry) {
  const { state, txQueue, rxQueue, timer, timerMs, retransmits, probes } = row;
  return { state, txQueue, rxQueue, timer, timerMs, retransmits, probes };
}

function linksTo(pid: number, fd: number, inode: number): boolean {
  try {
    return Deno.readLinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`;
  } catch {
    return false;
  }
}
