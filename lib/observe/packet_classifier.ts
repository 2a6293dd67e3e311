/**
 * Labels captured TCP segments with what they mean for a dead-peer diagnosis: keepalive
 * probes, retransmissions, zero-window advertisements and zero-window probes. It follows
 * each connection's sequence space in capture order, so feed it every segment, in order.
 *
 * @module
 */

import type { TcpdumpPacket, TcpFlag } from "./tcpdump_line.ts";

/** What a segment is, beyond ordinary traffic; a segment may be several at once. */
export type PacketKind = "keepalive_probe" | "retransmission" | "zero_window" | "zero_window_probe";

/** What one side of a connection has shown so far. */
interface SideState {
  /** One past the highest sequence number this side has sent. */
  next?: number;
  /** The highest acknowledgment this side has sent. */
  acked?: number;
  /** The last window this side advertised. */
  window?: number;
}

/** a < b in sequence space (RFC 9293 §3.4: comparisons modulo 2^32). */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** Classifies the segments of any number of connections, fed in capture order. */
export class PacketClassifier {
  #sides = new Map<string, SideState>();

  #side(from: TcpdumpPacket["src"], to: TcpdumpPacket["dst"]): SideState {
    const key = `${from.address}.${from.port}>${to.address}.${to.port}`;
    let side = this.#sides.get(key);
    if (!side) this.#sides.set(key, side = {});
    return side;
  }

  /** The kinds of `packet`, given everything fed before it. */
  classify(packet: TcpdumpPacket): PacketKind[] {
    const sender = this.#side(packet.src, packet.dst);
    const receiver = this.#side(packet.dst, packet.src);
    const flags = new Set<TcpFlag>(packet.flags);
    const kinds: PacketKind[] = [];
    if (flags.has("RST")) return kinds;
    if (packet.window === 0) kinds.push("zero_window");
    // What the peer acknowledged was sent, even if the capture began after it was.
    if (
      receiver.acked !== undefined &&
      (sender.next === undefined || before(sender.next, receiver.acked))
    ) {
      sender.next = receiver.acked;
    }
    const { seq } = packet;
    const next = sender.next;
    if (seq !== undefined) {
      const control = flags.has("SYN") || flags.has("FIN");
      const span = packet.length + (flags.has("SYN") ? 1 : 0) + (flags.has("FIN") ? 1 : 0);
      const una = receiver.acked;
      const small = !control && packet.length <= 1;
      const oneBelow = (n: number) => seq === ((n - 1) >>> 0);
      if (
        small && receiver.window === 0 && una !== undefined &&
        (oneBelow(una) || (packet.length === 1 && seq === una))
      ) {
        // Linux probes a closed window one below the acknowledged data; others send one byte.
        kinds.push("zero_window_probe");
      } else if (small && next !== undefined && una === next && oneBelow(next)) {
        // Everything acknowledged, and a segment one below it: the peer must answer with an ACK.
        kinds.push("keepalive_probe");
      } else if (next !== undefined && span > 0 && before(seq, next)) {
        kinds.push("retransmission");
      }
      const end = (seq + span) >>> 0;
      if (next === undefined || before(next, end)) sender.next = end;
    }
    if (packet.ack !== undefined && flags.has("ACK")) {
      if (sender.acked === undefined || before(sender.acked, packet.ack)) sender.acked = packet.ack;
    }
    if (packet.window !== undefined) sender.window = packet.window;
    return kinds;
  }
}
