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

import type { PacketEvent } from "./capture.ts";

/** The server's close that nothing since the quiet moment prompted. */
export interface UnpromptedClose {
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
  /** When a NAT's mapping of the connection expires: a close after it may be the NAT's doing. */
  mappingExpiresAt?: number;
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
): UnpromptedClose | undefined {
  const close = firstClose(packets, quietFrom);
  if (!close) return undefined;
  const told = (context.otherSigns ?? []).some((at) => at > quietFrom && at < close.at - BURST_MS);
  const expired = context.mappingExpiresAt !== undefined && close.at >= context.mappingExpiresAt;
  if (told || expired) return undefined;
  return { ...close, idleMs: Math.max(0, Math.round(close.at - context.lastTrafficAt)) };
}

/** The server's first FIN or RST after `quietFrom`, if nothing that could tell came first. */
function firstClose(
  packets: readonly PacketEvent[],
  quietFrom: number,
): Omit<UnpromptedClose, "idleMs"> | undefined {
  let burstFrom: number | undefined;
  let probed = false;
  for (const p of packets) {
    if (p.at <= quietFrom) continue;
    if (p.direction === "client_to_server") {
      const pureAck = p.length === 0 && p.flags.every((f) => f === "ACK");
      if (!pureAck) return undefined;
      continue;
    }
    const flag = p.flags.includes("RST") ? "RST" : p.flags.includes("FIN") ? "FIN" : undefined;
    if (flag === undefined && p.kinds.includes("keepalive_probe")) {
      probed = true;
      continue;
    }
    burstFrom ??= p.at;
    if (flag === undefined) continue;
    // An RST after probes is the kernel's keepalive giving up: the fault's doing.
    if (flag === "RST" && probed) return undefined;
    return p.at - burstFrom > BURST_MS ? undefined : { at: p.at, flag };
  }
  return undefined;
}
