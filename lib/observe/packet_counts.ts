/**
 * The kernel's probing of a connection after the fault, counted from the capture: keepalive
 * probes, retransmissions and zero-window probes the server sent. Only segments at or after
 * the fault moment count: a SYN-ACK retried during the handshake, or a retransmission while
 * the connection was healthy, says nothing about how the server met the client's going down.
 *
 * @module
 */

import type { PacketEvent } from "./capture.ts";

/** What the server's kernel sent after the fault to a peer that may be gone. */
export interface PacketCounts {
  /** Keepalive probes (a segment one below the acknowledged sequence, nothing outstanding). */
  keepaliveProbes: number;
  /** Retransmitted segments (data, SYN or FIN sent again). */
  retransmissions: number;
  /** Probes of the peer's closed window. */
  zeroWindowProbes: number;
}

/**
 * Counts the server's probes and retransmissions in `packets` (the connection under test
 * only) from `faultAt` (monotonic ms) to `until`; every segment when there is no fault moment.
 *
 * @example
 * ```ts ignore
 * const counts = countAfterFault(packetsOf(packets, clientPort), obs.faultAt, obs.endAt);
 * console.log(counts.keepaliveProbes);
 * ```
 */
export function countAfterFault(
  packets: readonly PacketEvent[],
  faultAt: number | undefined,
  until: number = Infinity,
): PacketCounts {
  const counts: PacketCounts = { keepaliveProbes: 0, retransmissions: 0, zeroWindowProbes: 0 };
  for (const p of packets) {
    if (p.direction !== "server_to_client" || p.at > until) continue;
    if (faultAt !== undefined && p.at < faultAt) continue;
    if (p.kinds.includes("keepalive_probe")) counts.keepaliveProbes++;
    if (p.kinds.includes("retransmission")) counts.retransmissions++;
    if (p.kinds.includes("zero_window_probe")) counts.zeroWindowProbes++;
  }
  return counts;
}
