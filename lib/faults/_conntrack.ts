/**
 * A conntrack entry of the router, forgotten through ctnetlink on the lab's netfilter socket
 * (no `conntrack -D` process): the one of a connection's original tuple, found by the kernel's
 * hash lookup. A flush (by mark, say) would walk the kernel's whole conntrack table, shared by
 * every namespace: 0.3 ms on an idle machine, 15 ms on a loaded one, where the walk yields.
 *
 * @module
 */

import { addressBytes, AF_INET, IPPROTO_TCP, monotonicMs } from "../libc/libc.ts";
import {
  attr,
  concat,
  type Done,
  message,
  nested,
  NetlinkError,
  type NetlinkSocket,
  NLM_F_ACK,
  NLM_F_REQUEST,
} from "../libc/netlink.ts";

// linux/netfilter/nfnetlink.h, nfnetlink_conntrack.h
const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_DELETE = 2;
const CTA_TUPLE_ORIG = 1;
const CTA_TUPLE_IP = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_IP_V4_SRC = 1;
const CTA_IP_V4_DST = 2;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_SRC_PORT = 2;
const CTA_PROTO_DST_PORT = 3;
const ENOENT = 2;

/** An IPv4 TCP connection as its first packet left the client (conntrack's original tuple). */
export interface OriginalTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

const be16 = (port: number) => new Uint8Array([port >> 8, port & 0xff]);

/**
 * Deletes the conntrack entry of `tuple` through `socket` (a netfilter netlink socket of the
 * router); returns when that was done and how many entries went (0: there was none).
 */
export function forgetConnection(
  socket: NetlinkSocket,
  tuple: OriginalTuple,
): Done & { deleted: number } {
  const seq = socket.nextSeq();
  const orig = concat([
    nested(CTA_TUPLE_IP, [
      attr(CTA_IP_V4_SRC, addressBytes(tuple.src)),
      attr(CTA_IP_V4_DST, addressBytes(tuple.dst)),
    ]),
    nested(CTA_TUPLE_PROTO, [
      attr(CTA_PROTO_NUM, new Uint8Array([IPPROTO_TCP])),
      attr(CTA_PROTO_SRC_PORT, be16(tuple.sport)),
      attr(CTA_PROTO_DST_PORT, be16(tuple.dport)),
    ]),
  ]);
  const body = concat([
    new Uint8Array([AF_INET, 0, 0, 0]), // nfgenmsg
    nested(CTA_TUPLE_ORIG, [orig]),
  ]);
  const request = message(
    (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE,
    NLM_F_REQUEST | NLM_F_ACK,
    seq,
    body,
  );
  const sentAt = monotonicMs();
  try {
    return { ...socket.request("conntrack delete", request, seq), deleted: 1 };
  } catch (error) {
    // No such entry: nothing was forgotten, and the answer says so at once.
    if (!(error instanceof NetlinkError && error.errno === ENOENT)) throw error;
    return { sentAt, doneAt: monotonicMs(), deleted: 0 };
  }
}
