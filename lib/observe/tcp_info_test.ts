import assert from "node:assert/strict";
import { parseTcpInfo } from "./tcp_info.ts";

/** A struct tcp_info of `length` bytes with the named fields set at their offsets. */
function tcpInfo(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  bytes.set([8, 0, 3, 2, 4], 0); // CLOSE_WAIT, ca_state, retransmits, probes, backoff
  view.setUint32(8, 3_264_000, true); // rto, µs
  view.setUint32(24, 7, true); // unacked
  view.setUint32(44, 1500, true); // last_data_sent
  view.setUint32(52, 61_000, true); // last_data_recv
  view.setUint32(56, 60_500, true); // last_ack_recv
  view.setUint32(68, 250, true); // rtt, µs
  view.setUint32(100, 12, true); // total_retrans
  if (length >= 148) view.setUint32(144, 4096, true); // notsent_bytes
  if (length >= 232) view.setUint32(228, 0, true); // snd_wnd
  if (length >= 248) {
    view.setUint16(242, 1, true); // total_rto_recoveries
    view.setUint32(244, 3001, true); // total_rto_time
  }
  return bytes;
}

Deno.test("parseTcpInfo reads each field at its offset in linux/tcp.h", () => {
  assert.deepEqual(parseTcpInfo(tcpInfo(280), 280), {
    state: "CLOSE_WAIT",
    retransmits: 3,
    probes: 2,
    backoff: 4,
    rtoMs: 3264,
    unacked: 7,
    lastDataSentMs: 1500,
    lastDataRecvMs: 61_000,
    lastAckRecvMs: 60_500,
    rttMs: 0.25,
    totalRetrans: 12,
    notsentBytes: 4096,
    sndWnd: 0,
    totalRtoRecoveries: 1,
    totalRtoTimeMs: 3001,
  });
});

Deno.test("parseTcpInfo leaves out the fields an older kernel did not fill", () => {
  const old = parseTcpInfo(tcpInfo(232), 232);
  assert.equal(old.sndWnd, 0);
  assert.equal(old.totalRtoTimeMs, undefined);
  const older = parseTcpInfo(tcpInfo(104), 104);
  assert.equal(older.notsentBytes, undefined);
  assert.equal(older.totalRetrans, 12);
  assert.throws(() => parseTcpInfo(tcpInfo(104), 100), /TCP_INFO too short: "100" bytes/);
});
