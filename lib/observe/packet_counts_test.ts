import assert from "node:assert/strict";
import type { PacketEvent } from "./capture.ts";
import { countAfterFault } from "./packet_counts.ts";

const p = (
  at: number,
  direction: PacketEvent["direction"],
  kinds: PacketEvent["kinds"],
  flags: PacketEvent["flags"] = ["ACK"],
): PacketEvent => ({
  at,
  direction,
  client: { address: "2001:db8:c::2", port: 40000 },
  flags,
  seq: 1,
  ack: 1,
  window: 100,
  length: 0,
  kinds,
});

Deno.test("countAfterFault counts the server's probes and retransmissions from the fault on only", () => {
  const packets = [
    // The handshake's SYN-ACK retried (the client's first SYN was lost): before the fault.
    p(0, "server_to_client", ["retransmission"], ["SYN", "ACK"]),
    p(5, "server_to_client", ["retransmission"]),
    // The fault at 100.
    p(300, "server_to_client", ["retransmission"]),
    p(700, "server_to_client", ["retransmission"]),
    p(2100, "server_to_client", ["keepalive_probe"]),
    p(2101, "client_to_server", ["keepalive_probe"]),
    p(2200, "server_to_client", ["zero_window_probe"]),
    p(9000, "server_to_client", ["keepalive_probe"]),
  ];
  assert.deepEqual(countAfterFault(packets, 100), {
    keepaliveProbes: 2,
    retransmissions: 2,
    zeroWindowProbes: 1,
  });
  assert.deepEqual(countAfterFault(packets, 100, 5000), {
    keepaliveProbes: 1,
    retransmissions: 2,
    zeroWindowProbes: 1,
  });
  // No fault moment (a scenario that only checks survival): everything.
  assert.equal(countAfterFault(packets, undefined).retransmissions, 4);
});
