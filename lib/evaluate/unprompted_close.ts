/**
 * A close the fault could not have caused. An application learns that its peer went away
 * only through what stops arriving: an answer to a segment of its own (data, an application's
 * ping), or a segment the peer would have sent. On an idle connection the test client sends
 * nothing whether or not it is down, so when the server sends nothing that could go unanswered
 * and then closes, nothing it saw differed from a healthy idle client: it closes a connection
 * idle that long whether or not the client is there (an idle timeout, a login grace time, or a
 * heartbeat the test client promised and does not send). A survival check on such a connection
 * tests the server's idle policy, not the outage (suites/INTERPRETING.md, "A close the fault
 * could not have caused").
 *
 * @module
 */

import type { PacketEvent } from "../observe/capture.ts";

/** A close of the server's own: its FIN or RST, and how long the connection was idle then. */
export interface OwnClose {
  /** When its FIN or RST left (monotonic ms). */
  at: number;
  flag: "FIN" | "RST";
  /** Ms from the last traffic on the connection to the close. */
  idleMs: number;
}

/** What besides the capture bears on whether a close was unprompted. */
export interface CloseContext {
  /** When data last moved on the connection (monotonic ms): the idle time counts from here. */
  lastTrafficAt: number;
  /**
   * Moments something besides the capture shows a segment was sent that the capture may not
   * hold: the client's own sends (the router drops them before the capture point during an
   * outage), an ICMP error quoting the connection, a retransmission counted in the server's
   * socket. One before the close means the server may have been told something.
   */
  otherSigns?: readonly number[];
  /** A NAT's established-connection timeout: a close once its mapping expired may be its doing. */
  natTimeoutMs?: number;
}

/**
 * Segments of one burst leave within this of each other. It is Linux's minimum
 * retransmission timeout (TCP_RTO_MIN, 200 ms): a segment sent less than this before the close
 * cannot have been found unanswered when the server decided to close.
 */
export const BURST_MS = 200;

/**
 * The server's first FIN or RST after `quietFrom`, when nothing before it could have told the
 * server of a fault: the client sent no segment but pure ACKs, and the server sent nothing but
 * keepalive probes (the kernel tells the application nothing of them until it gives up, and
 * then it is the kernel's RST, not the application's FIN) and the burst that carries the close
 * (a parting message, then its FIN) within BURST_MS of it. Undefined when the server did not
 * close, or something came first.
 */
export function unpromptedClose(
  packets: readonly PacketEvent[],
  quietFrom: number,
  context: CloseContext,
): OwnClose | undefined {
  const close = firstClose(packets, quietFrom);
  if (!close) return undefined;
  const told = (context.otherSigns ?? []).some((at) => at > quietFrom && at < close.at - BURST_MS);
  const expired = context.natTimeoutMs !== undefined &&
    !mappingAlive(packets, close.at, context.natTimeoutMs, context.lastTrafficAt);
  if (told || expired) return undefined;
  return withIdle(close, context.lastTrafficAt);
}

/**
 * Behind a NAT: the server's first FIN or RST after `from`, whatever came before it, when the
 * mapping still lived then (see mappingAlive): the NAT had not acted yet.
 */
export function closeWhileMapped(
  packets: readonly PacketEvent[],
  from: number,
  natTimeoutMs: number,
  lastTrafficAt: number,
): OwnClose | undefined {
  const close = serverCloseAfter(packets, from);
  return close && mappingAlive(packets, close.at, natTimeoutMs, lastTrafficAt)
    ? withIdle(close, lastTrafficAt)
    : undefined;
}

/** A close with how long the connection had been idle at it. */
function withIdle(close: Omit<OwnClose, "idleMs">, lastTrafficAt: number): OwnClose {
  return { ...close, idleMs: Math.max(0, Math.round(close.at - lastTrafficAt)) };
}

/** The server's first FIN or RST after `quietFrom`, if nothing that could tell came first. */
function firstClose(
  packets: readonly PacketEvent[],
  quietFrom: number,
): Omit<OwnClose, "idleMs"> | undefined {
  let burstFrom: number | undefined;
  let probed = false;
  for (const p of packets) {
    if (p.at <= quietFrom) continue;
    if (p.direction === "client_to_server") {
      const pureAck = p.length === 0 && p.flags.every((f) => f === "ACK");
      if (!pureAck) return undefined;
      // An answered probe counts for nothing: the kernel gives up only on unanswered ones.
      probed = false;
      continue;
    }
    const flag = p.flags.includes("RST") ? "RST" : p.flags.includes("FIN") ? "FIN" : undefined;
    if (flag === undefined && p.kinds.includes("keepalive_probe")) {
      probed = true;
      continue;
    }
    burstFrom ??= p.at;
    if (flag === undefined) continue;
    // An RST after unanswered probes is the kernel's keepalive giving up: the fault's doing.
    if (flag === "RST" && probed) return undefined;
    return p.at - burstFrom > BURST_MS ? undefined : { at: p.at, flag };
  }
  return undefined;
}

/**
 * Whether a NAT's mapping of the connection still lived at `at`: a segment of the client's
 * reached the server less than `natTimeoutMs` before (each one refreshes the mapping, and none
 * gets through once it is gone), or, when none came since, the last traffic did.
 */
export function mappingAlive(
  packets: readonly PacketEvent[],
  at: number,
  natTimeoutMs: number,
  lastTrafficAt: number,
): boolean {
  const heard = packets.filter((p) => p.direction === "client_to_server" && p.at <= at).at(-1);
  return at - Math.max(heard?.at ?? lastTrafficAt, lastTrafficAt) < natTimeoutMs;
}

/** The server's first FIN or RST after `from` (monotonic ms), whatever came before it. */
export function serverCloseAfter(
  packets: readonly PacketEvent[],
  from: number,
): Omit<OwnClose, "idleMs"> | undefined {
  for (const p of packets) {
    if (p.at <= from || p.direction !== "server_to_client") continue;
    if (p.flags.includes("RST")) return { at: p.at, flag: "RST" };
    if (p.flags.includes("FIN")) return { at: p.at, flag: "FIN" };
  }
  return undefined;
}
