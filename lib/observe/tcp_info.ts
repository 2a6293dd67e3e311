/**
 * `struct tcp_info` (include/uapi/linux/tcp.h), read with getsockopt(IPPROTO_TCP, TCP_INFO)
 * from a duplicate of the server's socket: what the kernel knows of the connection now. Only
 * the fields that say whether the peer is alive are decoded, each at its fixed offset; the
 * kernel fills as many bytes as it has (older kernels fewer), and a field past them is absent.
 *
 * @module
 */

import { check, IPPROTO_TCP, libc, TCP_INFO } from "../libc/libc.ts";
import { TCP_STATES, type TcpState } from "./proc_net_tcp.ts";

/** What TCP_INFO says about a connection. Times are milliseconds before the read. */
export interface TcpInfo {
  /** tcpi_state. */
  state: TcpState;
  /** tcpi_retransmits: unrecovered retransmissions by the timer (icsk_retransmits). */
  retransmits: number;
  /** tcpi_probes: unanswered keepalive or zero-window probes (icsk_probes_out). */
  probes: number;
  /** tcpi_backoff: how often the retransmission or probe timer has doubled (icsk_backoff). */
  backoff: number;
  /** tcpi_rto: the current retransmission timeout, backoff included (icsk_rto), ms. */
  rtoMs: number;
  /** tcpi_unacked: segments sent and not acknowledged. */
  unacked: number;
  /** tcpi_last_data_sent: since the last segment with data went out (a retransmission too). */
  lastDataSentMs: number;
  /** tcpi_last_data_recv: since the last data arrived from the peer. */
  lastDataRecvMs: number;
  /** tcpi_last_ack_recv: since the last acknowledgment arrived from the peer. */
  lastAckRecvMs: number;
  /** tcpi_rtt: smoothed round-trip time, ms. */
  rttMs: number;
  /** tcpi_total_retrans. */
  totalRetrans: number;
  /** tcpi_notsent_bytes: written by the application, not yet sent. */
  notsentBytes?: number;
  /** tcpi_snd_wnd: the peer's advertised window, bytes (Linux 5.4+). */
  sndWnd?: number;
  /** tcpi_total_rto_recoveries: retransmission-timeout episodes (Linux 6.7+). */
  totalRtoRecoveries?: number;
  /**
   * tcpi_total_rto_time: ms spent in retransmission-timeout episodes, the running one up to now
   * (from its first timer retransmission, tp->rto_stamp) included (Linux 6.7+).
   */
  totalRtoTimeMs?: number;
}

/** Byte offsets in struct tcp_info (x86_64 and aarch64 lay it out alike: no padding before u64s). */
const OFFSET = {
  state: 0,
  retransmits: 2,
  probes: 3,
  backoff: 4,
  rto: 8,
  unacked: 24,
  lastDataSent: 44,
  lastDataRecv: 52,
  lastAckRecv: 56,
  rtt: 68,
  totalRetrans: 100,
  notsentBytes: 144,
  sndWnd: 228,
  totalRtoRecoveries: 242,
  totalRtoTime: 244,
} as const;

/** The size of struct tcp_info on the newest kernels known, with room to spare. */
const TCP_INFO_BUFFER = 512;

/**
 * Decodes the first `length` bytes of a struct tcp_info.
 *
 * @example
 * ```ts
 * import { parseTcpInfo } from "./tcp_info.ts";
 * const bytes = new Uint8Array(104);
 * bytes[0] = 1; // ESTABLISHED
 * parseTcpInfo(bytes, 104).state; // "ESTABLISHED"
 * ```
 */
export function parseTcpInfo(bytes: Uint8Array, length: number): TcpInfo {
  if (length < OFFSET.totalRetrans + 4 || length > bytes.byteLength) {
    throw new RangeError(`TCP_INFO too short: "${length}" bytes, expected at least 104`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  const u8 = (offset: number) => view.getUint8(offset);
  const u32 = (offset: number) => view.getUint32(offset, true);
  const has = (offset: number, size: number) => length >= offset + size;
  const state = TCP_STATES[u8(OFFSET.state) as keyof typeof TCP_STATES];
  if (!state) throw new RangeError(`Unknown TCP state in TCP_INFO: "${u8(OFFSET.state)}"`);
  return {
    state,
    retransmits: u8(OFFSET.retransmits),
    probes: u8(OFFSET.probes),
    backoff: u8(OFFSET.backoff),
    rtoMs: u32(OFFSET.rto) / 1000,
    unacked: u32(OFFSET.unacked),
    lastDataSentMs: u32(OFFSET.lastDataSent),
    lastDataRecvMs: u32(OFFSET.lastDataRecv),
    lastAckRecvMs: u32(OFFSET.lastAckRecv),
    rttMs: u32(OFFSET.rtt) / 1000,
    totalRetrans: u32(OFFSET.totalRetrans),
    ...(has(OFFSET.notsentBytes, 4) ? { notsentBytes: u32(OFFSET.notsentBytes) } : {}),
    ...(has(OFFSET.sndWnd, 4) ? { sndWnd: u32(OFFSET.sndWnd) } : {}),
    ...(has(OFFSET.totalRtoTime, 4)
      ? {
        totalRtoRecoveries: view.getUint16(OFFSET.totalRtoRecoveries, true),
        totalRtoTimeMs: u32(OFFSET.totalRtoTime),
      }
      : {}),
  };
}

/** Reads TCP_INFO of socket `fd` (a duplicate: reading changes nothing). */
export function readTcpInfo(fd: number): TcpInfo {
  const buf = new Uint8Array(TCP_INFO_BUFFER);
  const len = new Uint32Array([TCP_INFO_BUFFER]);
  check("getsockopt(TCP_INFO)", libc().getsockopt(fd, IPPROTO_TCP, TCP_INFO, buf, len));
  return parseTcpInfo(buf, len[0] ?? 0);
}
