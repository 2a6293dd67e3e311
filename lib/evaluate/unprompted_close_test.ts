import assert from "node:assert/strict";
import type { PacketEvent } from "../observe/capture.ts";
import { BURST_MS, mappingAlive, serverCloseAfter, unpromptedClose } from "./unprompted_close.ts";

/** A segment of the connection at `at` ms. */
function segment(
  at: number,
  direction: PacketEvent["direction"],
  flags: PacketEvent["flags"],
  length = 0,
  kinds: PacketEvent["kinds"] = [],
): PacketEvent {
  const client = { address: "192.0.2.2", port: 40000 };
  return { at, direction, client, flags, seq: 1, ack: 1, window: 64240, length, kinds };
}

// The exchange before the fault at 1000 ms, the last traffic at 500 ms.
const QUIET = { lastTrafficAt: 500 };
const EXCHANGE = [
  segment(480, "client_to_server", ["PSH", "ACK"], 78),
  segment(481, "server_to_client", ["PSH", "ACK"], 160),
  segment(520, "client_to_server", ["ACK"]),
];

Deno.test("unpromptedClose: a FIN that is the server's first segment after the fault", () => {
  // gunicorn --worker-class gthread, blip/idle: keepalive 2 s closed the idle connection
  // during the 2 s outage; its FIN and the retransmission were dropped at the router.
  const packets = [
    ...EXCHANGE,
    segment(3230, "server_to_client", ["FIN", "ACK"]),
    segment(3437, "server_to_client", ["FIN", "ACK"], 0, ["retransmission"]),
  ];
  assert.deepEqual(unpromptedClose(packets, 1000, QUIET), { at: 3230, flag: "FIN", idleMs: 2730 });
  // An RST (mariadb's wait_timeout) counts the same.
  const rst = [...EXCHANGE, segment(30_757, "server_to_client", ["RST", "ACK"])];
  assert.deepEqual(unpromptedClose(rst, 1000, QUIET), { at: 30_757, flag: "RST", idleMs: 30_257 });
});

Deno.test("unpromptedClose: a parting message in the same burst as the FIN", () => {
  // vsftpd's "421 Timeout." then its FIN; the client's pure ACK does not tell of anything.
  const packets = [
    ...EXCHANGE,
    segment(30_498, "server_to_client", ["PSH", "ACK"], 14),
    segment(30_499, "server_to_client", ["FIN", "ACK"]),
    segment(30_500, "client_to_server", ["ACK"]),
  ];
  assert.equal(unpromptedClose(packets, 1000, QUIET)?.idleMs, 29_999);
});

Deno.test("unpromptedClose: anything that could have told the server of the fault", () => {
  const lateFin = segment(20_000, "server_to_client", ["FIN", "ACK"]);
  const cases: Record<string, PacketEvent[]> = {
    "keepalive probes, then the kernel's RST": [
      segment(3000, "server_to_client", ["ACK"], 0, ["keepalive_probe"]),
      segment(4000, "server_to_client", ["ACK"], 0, ["keepalive_probe"]),
      segment(5000, "server_to_client", ["RST", "ACK"]),
    ],
    "an application heartbeat before the close": [
      segment(10_000, "server_to_client", ["PSH", "ACK"], 8),
      lateFin,
    ],
    "a parting message retransmitted before the FIN": [
      segment(19_000, "server_to_client", ["PSH", "ACK"], 14),
      segment(19_000 + BURST_MS + 1, "server_to_client", ["FIN", "PSH", "ACK"], 14),
    ],
    "the client's data": [segment(8000, "client_to_server", ["PSH", "ACK"], 5), lateFin],
    "no close at all": [segment(8000, "server_to_client", ["ACK"], 0, ["keepalive_probe"])],
  };
  for (const [name, after] of Object.entries(cases)) {
    assert.equal(unpromptedClose([...EXCHANGE, ...after], 1000, QUIET), undefined, name);
  }
  assert.equal(unpromptedClose(EXCHANGE, 1000, QUIET), undefined, "nothing after the fault");
});

Deno.test("unpromptedClose: keepalive probes tell the application nothing before its FIN", () => {
  // caddy@timeouts-30s: Go's 15 s keepalive probed once, unanswered; its 30 s idle timeout
  // then closed the connection with a FIN. The kernel was far from giving up.
  const packets = [
    ...EXCHANGE,
    segment(15_500, "server_to_client", ["ACK"], 0, ["keepalive_probe"]),
    segment(30_500, "server_to_client", ["FIN", "ACK"]),
  ];
  assert.deepEqual(unpromptedClose(packets, 1000, QUIET), {
    at: 30_500,
    flag: "FIN",
    idleMs: 30_000,
  });
});

Deno.test("unpromptedClose: signs the capture cannot show, and a NAT mapping gone first", () => {
  const packets = [...EXCHANGE, segment(30_949, "server_to_client", ["FIN", "ACK"])];
  // The client sent during the outage (dropped before the capture point), or an ICMP error
  // quoted a segment of the connection the capture missed.
  assert.equal(unpromptedClose(packets, 1000, { ...QUIET, otherSigns: [5706] }), undefined);
  // Before the fault, or the close's own FIN retransmitted, says nothing.
  assert.equal(
    unpromptedClose(packets, 1000, { ...QUIET, otherSigns: [900, 31_160] })?.at,
    30_949,
  );
  // Behind a NAT with a 20 s timeout, nothing from the client since 500 ms: the mapping was
  // gone at 30.9 s, and the close may be the NAT's doing. With 240 s it still lived.
  assert.equal(unpromptedClose(packets, 1000, { ...QUIET, natTimeoutMs: 20_000 }), undefined);
  assert.equal(unpromptedClose(packets, 1000, { ...QUIET, natTimeoutMs: 240_000 })?.flag, "FIN");
});

Deno.test("mappingAlive: every segment of the client's refreshes the mapping", () => {
  // caddy: Go's keepalive probes every 15 s, each answered through the NAT, then its 5 min
  // idle timeout's FIN: the 240 s mapping still lived at 300 s.
  const probes = [15_000, 30_000, 285_000].flatMap((at) => [
    segment(at, "server_to_client", ["ACK"], 0, ["keepalive_probe"]),
    segment(at + 1, "client_to_server", ["ACK"]),
  ]);
  const packets = [...EXCHANGE, ...probes, segment(300_500, "server_to_client", ["FIN", "ACK"])];
  assert.deepEqual(serverCloseAfter(packets, 1000), { at: 300_500, flag: "FIN" });
  assert.equal(mappingAlive(packets, 300_500, 240_000, 500), true);
  // Without the answers, the last traffic at 500 ms is the last refresh.
  const unanswered = packets.filter((p) => p.direction === "server_to_client" || p.at < 1000);
  assert.equal(mappingAlive(unanswered, 300_500, 240_000, 500), false);
});

Deno.test("unpromptedClose: an RST after answered probes is the application's", () => {
  // The kernel gives up only on unanswered probes: these were answered, so the RST that
  // followed is the application's own abortive close (SO_LINGER 0 at its idle timeout).
  const packets = [
    ...EXCHANGE,
    segment(3000, "server_to_client", ["ACK"], 0, ["keepalive_probe"]),
    segment(3001, "client_to_server", ["ACK"]),
    segment(30_500, "server_to_client", ["RST", "ACK"]),
  ];
  assert.equal(unpromptedClose(packets, 1000, QUIET)?.flag, "RST");
});
