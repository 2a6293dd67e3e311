/**
 * A close the fault could not have caused. A server learns that its peer went away only
 * through packets: one of its own that goes unanswered, or the peer's that stop coming. On an
 * idle connection the client sends nothing whether or not it is down, so when the server sends
 * nothing either and then closes, nothing it saw differed from a healthy idle client: it
 * closed on its own (an idle timeout, a login grace time, a protocol keepalive the test client
 * does not speak). A survival check on such a connection measures the server's idle policy,
 * not the outage (suites/INTERPRETING.md, "A close the fault could not have caused").
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

/**
 * Segments of one burst leave within this of each other. It is Linux's minimum
 * retransmission timeout (TCP_RTO_MIN, 200 ms): a segment sent less than this before the close
 * cannot have been found unanswered when the server decided to close.
 */
export const BURST_MS = 200;

/**
 * The server's first FIN or RST after `quietFrom`, when nothing before it could have told the
 * server of a fault: the client sent no segment but pure ACKs, and the server sent nothing but
 * the burst that carries the close (a parting message, then its FIN) within BURST_MS of it.
 * `lastTrafficAt` is when data last moved, for the idle time. `otherSigns` are moments when
 * something besides the capture shows the server sent a segment (an ICMP error answering one,
 * a probe or retransmission counted in its socket): one before the close means the capture
 * missed something, and the close is not taken for unprompted. Undefined when the server did
 * not close, or something came first.
 */
export function unpromptedClose(
  packets: readonly PacketEvent[],
  quietFrom: number,
  lastTrafficAt: number,
  otherSigns: readonly number[] = [],
): UnpromptedClose | undefined {
  const close = firstClose(packets, quietFrom);
  if (!close || otherSigns.some((at) => at > quietFrom && at < close.at - BURST_MS)) {
    return undefined;
  }
  return { ...close, idleMs: Math.max(0, Math.round(close.at - lastTrafficAt)) };
}

/** The server's first FIN or RST after `quietFrom`, if only pure ACKs and its burst came first. */
function firstClose(
  packets: readonly PacketEvent[],
  quietFrom: number,
): Omit<UnpromptedClose, "idleMs"> | undefined {
  let burstFrom: number | undefined;
  for (const p of packets) {
    if (p.at <= quietFrom) continue;
    if (p.direction === "client_to_server") {
      const pureAck = p.length === 0 && p.flags.every((f) => f === "ACK");
      if (!pureAck) return undefined;
      continue;
    }
    burstFrom ??= p.at;
    const flag = p.flags.includes("RST") ? "RST" : p.flags.includes("FIN") ? "FIN" : undefined;
    if (flag === undefined) continue;
    return p.at - burstFrom > BURST_MS ? undefined : { at: p.at, flag };
  }
  return undefined;
}
