import assert from "node:assert/strict";
import type { PacketEvent } from "../observe/capture.ts";
import type { SocketEvent } from "../observe/socket_watch.ts";
import { connectionRelease } from "../observe/connection_release.ts";
import { releaseHow, releaseOnTheWire } from "./release_how.ts";

const held = (
  at: number,
  timer: SocketEvent["timer"],
  extra: Partial<SocketEvent> = {},
): SocketEvent => ({
  at,
  state: "ESTABLISHED",
  holding: "held",
  txQueue: 0,
  rxQueue: 0,
  timer,
  timerMs: 0,
  retransmits: 0,
  probes: 0,
  inode: 7,
  fd: 5,
  changed: ["timer"],
  ...extra,
});
const freed = (at: number): SocketEvent => ({
  ...held(at, "none"),
  state: "GONE",
  holding: "freed",
  fd: undefined,
});
const packet = (
  at: number,
  direction: PacketEvent["direction"],
  flags: PacketEvent["flags"],
): PacketEvent => ({
  at,
  direction,
  client: { address: "192.0.2.2", port: 40000 },
  flags,
  seq: 1,
  ack: 1,
  window: 100,
  length: 0,
  kinds: [],
});

Deno.test("releaseHow tells the kernel's timers from the server's own close and the peer's RST", () => {
  // Keepalive gives up: probes unanswered, the kernel's RST.
  assert.equal(
    releaseHow(5000, 0, [held(10, "keepalive", { probes: 3 }), freed(5000)], [
      packet(5000, "server_to_client", ["RST"]),
    ]),
    "keepalive-timeout",
  );
  // The client's RST arrived first.
  assert.equal(
    releaseHow(20, 0, [held(10, "none"), freed(20)], [packet(15, "client_to_server", ["RST"])]),
    "reset-by-peer",
  );
  // The server closed on its own (its FIN).
  assert.equal(
    releaseHow(30, 0, [held(10, "none"), freed(30)], [
      packet(30, "server_to_client", ["FIN", "ACK"]),
    ]),
    "server-fin",
  );
  // Its FIN, then an RST to the client's next segment: the FIN released it.
  assert.equal(
    releaseHow(40, 0, [held(10, "none"), freed(40)], [
      packet(30, "server_to_client", ["FIN", "ACK"]),
      packet(75, "client_to_server", ["PSH", "ACK"]),
      packet(75, "server_to_client", ["RST"]),
    ]),
    "server-fin",
  );
  // Retransmissions unanswered, no packet at the end.
  assert.equal(
    releaseHow(6000, 0, [held(10, "retransmit", { retransmits: 4 }), freed(6000)], []),
    "retransmission-timeout",
  );
  // A frozen peer answers every zero-window probe; TCP_USER_TIMEOUT ends it by time.
  assert.equal(
    releaseHow(5300, 0, [held(10, "zero_window_probe"), freed(5300)], []),
    "zero-window-timeout",
  );
  // The application aborted (its RST) while no kernel timer had given up.
  assert.equal(
    releaseHow(900, 0, [held(10, "none"), freed(900)], [packet(900, "server_to_client", ["RST"])]),
    "server-rst",
  );
});

Deno.test("releaseHow: the peer's RST that answers the server's FIN does not make it reset-by-peer", () => {
  // The server closes (idle timeout) toward a rebooted client, whose kernel answers with RST.
  assert.equal(
    releaseHow(2000, 0, [held(10, "none"), freed(2000)], [
      packet(1990, "server_to_client", ["FIN", "ACK"]),
      packet(1991, "client_to_server", ["RST"]),
    ]),
    "server-fin",
  );
  // A server that closes after each response sent its FIN before the fault, more than 50 ms
  // before the client's RST (python's http.server, recorded: FIN at -51 ms, RST at +2 ms).
  assert.equal(
    releaseHow(16, 0, [held(-60, "none"), freed(16)], [
      packet(-51, "server_to_client", ["FIN", "ACK"]),
      packet(2, "client_to_server", ["RST"]),
    ]),
    "server-fin",
  );
  // The same RST before any FIN of the server's is the peer's doing.
  assert.equal(
    releaseHow(2000, 0, [held(10, "none"), freed(2000)], [
      packet(1989, "client_to_server", ["RST"]),
      packet(1990, "server_to_client", ["FIN", "ACK"]),
    ]),
    "reset-by-peer",
  );
});

Deno.test("releaseHow: a peer's RST stamped after the release did not end it", () => {
  // TCP_USER_TIMEOUT freed a zero-window connection silently; the test client's own close at
  // teardown, with data unread, sent an RST 22 ms later.
  const socket = [held(10, "zero_window_probe", { probes: 0 }), freed(5000)];
  assert.equal(
    releaseHow(5000, 0, socket, [packet(5022, "client_to_server", ["RST"])]),
    "zero-window-timeout",
  );
  assert.equal(
    releaseHow(5000, 0, socket, [packet(4990, "client_to_server", ["RST"])]),
    "reset-by-peer",
  );
});

Deno.test("releaseOnTheWire: the server's own FIN or RST since the last sample is the release, on the kernel's clock", () => {
  // Sampled at 40 (held), then at 90 (freed): the server closed in between, its FIN left at 52.
  const socket = [held(10, "none"), { ...freed(90), previousSampleAt: 40 }];
  const fin = packet(52, "server_to_client", ["FIN", "ACK"]);
  const watched = connectionRelease(socket);
  assert.deepEqual(watched, { releasedAt: 90, notYetAt: 40, everHeld: true });
  assert.equal(releaseOnTheWire(watched, 0, socket, [fin]).releasedAt, 52);
  // An abortive close: its RST.
  const rst = packet(61, "server_to_client", ["RST"]);
  assert.equal(releaseOnTheWire(watched, 0, socket, [rst]).releasedAt, 61);
  // A FIN that left before the last sample (a shutdown, the close later): the watch's moment.
  assert.equal(
    releaseOnTheWire(watched, 0, socket, [packet(30, "server_to_client", ["FIN"])]).releasedAt,
    90,
  );
  // The kernel's keepalive abort sends the RST; the server's close of the fd came after it.
  const probed = [held(10, "keepalive", { probes: 3 }), { ...freed(90), previousSampleAt: 40 }];
  assert.equal(
    releaseOnTheWire(connectionRelease(probed), 0, probed, [rst]).releasedAt,
    90,
  );
  // A FIN of a shutdown long before, sent again: not the close.
  const again = { ...packet(52, "server_to_client", ["FIN"]), kinds: ["retransmission" as const] };
  assert.equal(releaseOnTheWire(watched, 0, socket, [again]).releasedAt, 90);
  // The peer's RST made it: no segment of the server's marks its close.
  const peer = [packet(45, "client_to_server", ["RST"])];
  assert.equal(releaseOnTheWire(watched, 0, socket, peer).releasedAt, 90);
  // Without the sample before it (recorded before the watch kept it), the watch's moment.
  const first = [held(10, "none"), freed(90)];
  assert.equal(releaseOnTheWire(connectionRelease(first), 0, first, [fin]).releasedAt, 90);
});
