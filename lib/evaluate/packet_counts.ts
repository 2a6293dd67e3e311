/**
 * What the server's kernel sent to the dead client after the fault: keepalive probes,
 * retransmissions and zero-window probes. Counted after the fault moment only: the
 * connection's life before it (a retransmitted SYN, say) is not the server's reaction.
 *
 * @module
 */

import type { PacketEvent } from "../observe/capture.ts";

/** The server's probes and retransmissions after the fault. */
export interface PacketCounts {
  keepaliveProbes: number;
  retransmissions: number;
  zeroWindowProbes: number;
}

/**
 * Counts the server's packets of the connection under test from `faultAt` on.
 *
 * @example
 * ```ts
 * import { countAfterFault } from "./packet_counts.ts";
 * countAfterFault([], 0); // { keepaliveProbes: 0, retransmissions: 0, zeroWindowProbes: 0 }
 * ```
 */
export function countAfterFault(packets: readonly PacketEvent[], faultAt: number): PacketCounts {
  const fromServer = packets.filter((p) => p.direction === "server_to_client" && p.at >= faultAt);
  const count = (kind: PacketEvent["kinds"][number]) =>
    fromServer.filter((p) => p.kinds.includes(kind)).length;
  return {
    keepaliveProbes: count("keepalive_probe"),
    retransmissions: count("retransmission"),
    zeroWindowProbes: count("zero_window_probe"),
  };
}
