/**
 * The hardened server: the one that treats dead clients right. One poll() loop over
 * non-blocking sockets, so no client can stall another. Every accepted socket gets
 * SO_KEEPALIVE and the TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT / TCP_USER_TIMEOUT of its
 * settings (logged as read back with getsockopt). Application timeouts:
 * - idle: no request since accept or since the last response was written → close (FIN);
 * - request: a partial request not completed in time since its first byte → close (FIN);
 * - send: a response making no write progress in time → abort (SO_LINGER {1,0}: RST), which
 *   frees the kernel's send buffer at once.
 * SIGPIPE is ignored and every send uses MSG_NOSIGNAL. POLLERR or POLLHUP closes the fd at
 * once, so a socket the kernel has timed out or reset is freed without delay. While a
 * response is pending the server reads no further requests (backpressure); after the
 * client's FIN it finishes the pending response, then closes.
 *
 * @module
 */

import {
  errno,
  errnoName,
  getIntOption,
  libc,
  monotonicMs,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  POLLERR,
  pollFds,
  POLLHUP,
  POLLIN,
  POLLOUT,
  revents,
  setLinger,
  SIG_IGN,
  SIGPIPE,
  SO_ERROR,
  SOL_SOCKET,
} from "../../lib/libc/libc.ts";
import { logEvent } from "./event_log.ts";
import type { HardenedSettings } from "./hardened_settings.ts";
import { respond, takeLines } from "./line_protocol.ts";
import { acceptClient } from "./listen_socket.ts";
import { Outbox } from "./outbox.ts";
import { setTimeoutOptions, timeoutOptions } from "./socket_timeouts.ts";

interface Connection {
  fd: number;
  peer: string;
  /** A partial request: bytes after the last newline. */
  input: Uint8Array;
  outbox: Outbox;
  /** Since accept, or since the last response was fully written. */
  idleSince: number;
  /** When the first byte of the current partial request arrived. */
  requestSince: number;
  /** When a write last made progress, or when the pending response was queued. */
  progressAt: number;
  peerFinished: boolean;
}

type Timeout = "idle" | "request" | "send";

const READ_BYTES = 64 * 1024;
/** Accepts per wake-up and chunks per connection per wake-up: fairness between clients. */
const ACCEPTS_PER_ROUND = 64;
const CHUNKS_PER_ROUND = 16;

/** Serves the line protocol on a non-blocking listening socket; never returns. */
export function serveHardened(listener: number, settings: Readonly<HardenedSettings>): never {
  libc().signal(SIGPIPE, SIG_IGN);
  const connections = new Map<number, Connection>();
  const buffer = new Uint8Array(READ_BYTES);
  for (;;) {
    const now = monotonicMs();
    let wait = Infinity;
    for (const connection of [...connections.values()]) {
      const due = deadline(connection, settings);
      if (due.at <= now) expire(connections, connection, due.kind);
      else wait = Math.min(wait, due.at - now);
    }
    const list = [...connections.values()];
    const table = pollFds([
      { fd: listener, events: POLLIN },
      ...list.map((c) => ({ fd: c.fd, events: c.outbox.empty ? POLLIN : POLLOUT })),
    ]);
    const timeout = wait === Infinity ? -1 : Math.ceil(wait);
    if (libc().poll(table, BigInt(list.length + 1), timeout) < 0) {
      const code = errno();
      if (errnoName(code) === "EINTR") continue;
      throw new Error(`Poll failed: ${errnoName(code)}`);
    }
    if (revents(table, 0) !== 0) acceptAll(listener, connections, settings);
    list.forEach((connection, index) => {
      const events = revents(table, index + 1);
      if (events !== 0) service(connections, connection, events, buffer);
    });
  }
}

function deadline(c: Connection, settings: Readonly<HardenedSettings>): {
  kind: Timeout;
  at: number;
} {
  if (!c.outbox.empty) return { kind: "send", at: c.progressAt + settings.sendTimeoutMs };
  if (c.input.byteLength > 0) {
    return { kind: "request", at: c.requestSince + settings.requestTimeoutMs };
  }
  return { kind: "idle", at: c.idleSince + settings.idleTimeoutMs };
}

function expire(connections: Map<number, Connection>, c: Connection, kind: Timeout): void {
  logEvent("timeout", { fd: c.fd, peer: c.peer, kind });
  drop(connections, c, `${kind}-timeout`, kind === "send" ? "rst" : "fin");
}

/** Closes a connection; `rst` aborts it, `dead` says the kernel had already ended it. */
function drop(
  connections: Map<number, Connection>,
  c: Connection,
  reason: string,
  how: "fin" | "rst" | "dead",
): void {
  if (how === "rst") setLinger(c.fd, true, 0);
  libc().close(c.fd);
  connections.delete(c.fd);
  logEvent("close", { fd: c.fd, peer: c.peer, reason, how });
}

function acceptAll(
  listener: number,
  connections: Map<number, Connection>,
  settings: Readonly<HardenedSettings>,
): void {
  for (let i = 0; i < ACCEPTS_PER_ROUND; i++) {
    const accepted = acceptClient(listener, true);
    if (typeof accepted === "number") {
      if (errnoName(accepted) !== "EAGAIN") {
        logEvent("error", { op: "accept", errno: errnoName(accepted) });
      }
      return;
    }
    const { fd, peer } = accepted;
    setTimeoutOptions(fd, {
      keepalive: true,
      keepIdleS: settings.keepIdleSeconds,
      keepIntvlS: settings.keepIntvlSeconds,
      keepCnt: settings.keepCnt,
      userTimeoutMs: settings.userTimeoutMs,
    });
    const now = monotonicMs();
    connections.set(fd, {
      fd,
      peer,
      input: new Uint8Array(),
      outbox: new Outbox(),
      idleSince: now,
      requestSince: now,
      progressAt: now,
      peerFinished: false,
    });
    logEvent("accept", { fd, peer, ...timeoutOptions(fd) });
  }
}

function service(
  connections: Map<number, Connection>,
  c: Connection,
  events: number,
  buffer: Uint8Array,
): void {
  if (events & POLLERR) {
    const code = getIntOption(c.fd, SOL_SOCKET, SO_ERROR);
    logEvent("error", { fd: c.fd, peer: c.peer, op: "poll", errno: errnoName(code) });
    drop(connections, c, "error", "dead");
    return;
  }
  if (events & POLLIN) {
    if (!readFrom(connections, c, buffer)) return;
  } else if (events & POLLHUP) {
    drop(connections, c, "hangup", "dead");
    return;
  }
  if (!c.outbox.empty && !flush(connections, c)) return;
  if (c.peerFinished && c.outbox.empty) drop(connections, c, "peer-fin", "fin");
}

/** Reads once; false when the connection was closed. */
function readFrom(
  connections: Map<number, Connection>,
  c: Connection,
  buffer: Uint8Array,
): boolean {
  const n = Number(libc().recv(c.fd, buffer, BigInt(buffer.byteLength), MSG_DONTWAIT));
  if (n < 0) {
    const code = errno();
    if (errnoName(code) === "EAGAIN") return true;
    logEvent("error", { fd: c.fd, peer: c.peer, op: "recv", errno: errnoName(code) });
    drop(connections, c, "error", "dead");
    return false;
  }
  if (n === 0) {
    c.peerFinished = true;
    return true;
  }
  const now = monotonicMs();
  if (c.input.byteLength === 0) c.requestSince = now;
  const input = new Uint8Array(c.input.byteLength + n);
  input.set(c.input);
  input.set(buffer.subarray(0, n), c.input.byteLength);
  const { lines, rest } = takeLines(input);
  // A partial request that follows complete ones starts its own clock.
  if (lines.length > 0 && rest.byteLength > 0) c.requestSince = now;
  c.input = rest;
  if (lines.length > 0 && c.outbox.empty) c.progressAt = now;
  for (const line of lines) c.outbox.push(respond(line));
  return true;
}

/** Writes what the socket takes now; false when the connection was closed. */
function flush(connections: Map<number, Connection>, c: Connection): boolean {
  for (let i = 0; i < CHUNKS_PER_ROUND; i++) {
    const chunk = c.outbox.next();
    if (!chunk) break;
    const flags = MSG_NOSIGNAL | MSG_DONTWAIT;
    const n = Number(libc().send(c.fd, chunk, BigInt(chunk.byteLength), flags));
    if (n < 0) {
      const code = errno();
      if (errnoName(code) === "EAGAIN") return true;
      logEvent("error", { fd: c.fd, peer: c.peer, op: "send", errno: errnoName(code) });
      drop(connections, c, "error", "dead");
      return false;
    }
    c.outbox.consume(n);
    c.progressAt = monotonicMs();
  }
  if (c.outbox.empty) c.idleSince = monotonicMs();
  return true;
}
