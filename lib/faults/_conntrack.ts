/**
 * Conntrack entries of the router, forgotten through ctnetlink on the lab's netfilter socket
 * (no `conntrack -D` process): those of one ct mark, which the NAT's own rule sets on every
 * connection it translates.
 *
 * @module
 */

import { AF_INET } from "../libc/libc.ts";
import {
  attr,
  be32,
  concat,
  type Done,
  message,
  type NetlinkSocket,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
} from "../libc/netlink.ts";

// linux/netfilter/nfnetlink.h, nfnetlink_conntrack.h
const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_GET = 1;
const IPCTNL_MSG_CT_DELETE = 2;
const CTA_MARK = 8;
const CTA_MARK_MASK = 21;

function request(socket: NetlinkSocket, type: number, flags: number, mark: number) {
  const seq = socket.nextSeq();
  const body = concat([
    new Uint8Array([AF_INET, 0, 0, 0]), // nfgenmsg: IPv4 entries
    attr(CTA_MARK, be32(mark)),
    attr(CTA_MARK_MASK, be32(0xffffffff)),
  ]);
  return { seq, bytes: message((NFNL_SUBSYS_CTNETLINK << 8) | type, flags, seq, body) };
}

/**
 * Deletes every IPv4 conntrack entry with ct mark `mark`; returns when that was done and how
 * many there were (counted just before, in the same synchronous run).
 */
export function forgetMarked(socket: NetlinkSocket, mark: number): Done & { deleted: number } {
  const deleted = socket.dump(
    "conntrack dump",
    request(socket, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, mark).bytes,
  ).length;
  const flush = request(socket, IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, mark);
  return { ...socket.request("conntrack flush", flush.bytes, flush.seq), deleted };
}
