/**
 * How the server let go of the connection, from the packets at the router and the socket
 * table: its own FIN or RST, the peer's RST, a kernel timer (keepalive, retransmission,
 * zero-window probing), or the socket simply freed.
 *
 * @module
 */

import { CAPTURE_SLACK_MS, type PacketEvent } from "../observe/capture.ts";
import type { ConnectionRelease } from "../observe/connection_release.ts";
import type { SocketEvent } from "../observe/socket_watch.ts";
import type { ReleaseHow } from "../results/schema.ts";

/** The packets of the connection under test: the client port the server saw. */
export function packetsOf(
  packets: readonly PacketEvent[],
  clientPort: number | undefined,
): PacketEvent[] {
  return clientPort === undefined ? [] : packets.filter((p) => p.client.port === clientPort);
}

/** Packets from the server before (or at) `until`, with the given flag. */
function serverSent(
  packets: readonly PacketEvent[],
  flag: "FIN" | "RST",
  until: number,
): PacketEvent | undefined {
  return packets.find((p) =>
    p.direction === "server_to_client" && p.flags.includes(flag) && p.at <= until + 50
  );
}

const TIMER_OUT: Partial<Record<SocketEvent["timer"], ReleaseHow>> = {
  keepalive: "keepalive-timeout",
  retransmit: "retransmission-timeout",
  zero_window_probe: "zero-window-timeout",
};

/** Classifies the release at `releasedAt` (monotonic ms). */
export function releaseHow(
  releasedAt: number,
  faultAt: number,
  socket: readonly SocketEvent[],
  packets: readonly PacketEvent[],
): ReleaseHow {
  const before = socket.filter((e) => e.at <= releasedAt);
  // The last timer the kernel ran while the server still held the socket says which clock ran out.
  const lastHeld = before.filter((e) => e.holding === "held").at(-1);
  // A peer's RST that ended the connection passed the router before the server's kernel freed
  // the socket, so before any sample that saw it gone: one stamped later (a test client closed
  // with unread data at teardown) came after the release and says nothing of it.
  const peerRst = packets.find((p) =>
    p.direction === "client_to_server" && p.flags.includes("RST") && p.at >= faultAt - 50 &&
    p.at <= releasedAt + CAPTURE_SLACK_MS
  );
  const rst = serverSent(packets, "RST", releasedAt);
  const fin = serverSent(packets, "FIN", releasedAt);
  // The peer's RST ended it only when the server had not closed first: an RST that answers the
  // server's own FIN (or RST) follows a release that was the server's, however long before the
  // fault that FIN left (a server that closes after each response, just before the fault).
  const serverFirst = peerRst !== undefined &&
    [rst, fin].some((p) => p !== undefined && p.at <= peerRst.at);
  if (peerRst && !serverFirst) return "reset-by-peer";
  const closedByKernel = before.some((e) => e.holding === "closed_fd_held") ||
    lastHeld?.state === "CLOSE";
  const timerOut = TIMER_OUT[lastHeld?.timer ?? "none"];
  if (closedByKernel) return timerOut ?? "freed-silently";
  // The kernel's keepalive abort is the one timeout that sends RST (tcp_keepalive_timer).
  if (rst && timerOut === "keepalive-timeout" && (lastHeld?.probes ?? 0) > 0) return timerOut;
  // An RST after the server's own FIN answers a segment that reached the closed socket: the
  // FIN was the release (vsftpd's "421 Timeout.", FIN, then RST to the client's next command).
  if (rst && !(fin && fin.at < rst.at)) return "server-rst";
  if (fin || before.some((e) => e.holding === "orphaned")) return "server-fin";
  // Retransmission and zero-window timeouts end the socket without a packet. A peer that
  // answers zero-window probes keeps the probe count at 0: TCP_USER_TIMEOUT ends it by time.
  if (timerOut === "zero-window-timeout") return timerOut;
  if (timerOut && ((lastHeld?.retransmits ?? 0) > 0 || (lastHeld?.probes ?? 0) > 0)) {
    return timerOut;
  }
  return "freed-silently";
}

/**
 * The release on the kernel's clock when the server's own close sent a segment: the release's
 * moment is then the capture's stamp of that FIN or RST, when it left after the last sample
 * that saw the socket not yet released (the watch's moment is its lookup's: up to a sampling
 * interval and the runner's lateness late). Otherwise, and for a release a kernel timer or the
 * peer's RST made (no segment marks the server's close then), the watch's moment stands.
 */
export function releaseOnTheWire(
  release: ConnectionRelease,
  faultAt: number | undefined,
  socket: readonly SocketEvent[],
  packets: readonly PacketEvent[],
): ConnectionRelease {
  const { releasedAt, notYetAt } = release;
  if (releasedAt === undefined || notYetAt === undefined || faultAt === undefined) return release;
  const how = releaseHow(releasedAt, faultAt, socket, packets);
  const flag = how === "server-fin" ? "FIN" : how === "server-rst" ? "RST" : undefined;
  if (flag === undefined) return release;
  // A segment sent again is not the close: a FIN of a shutdown long before can be retransmitted.
  const segment = packets.find((p) =>
    p.direction === "server_to_client" && p.flags.includes(flag) &&
    !p.kinds.includes("retransmission") &&
    p.at > notYetAt - CAPTURE_SLACK_MS && p.at <= releasedAt + CAPTURE_SLACK_MS
  );
  return segment ? { ...release, releasedAt: Math.min(segment.at, releasedAt) } : release;
}
