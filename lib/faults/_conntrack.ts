/**
 * Conntrack entries of the router, forgotten through ctnetlink on the lab's netfilter socket
 * (no `conntrack -D` process): those of one ct mark, which the NAT's own rule sets on every
 * connection it translates.
 *
 * @module
 */

import { AF_INET } from "../libc/libc.ts";
import { inNetns } from "../libc/netns.ts";
import {
  attr,
  be32,
  concat,
  type Done,
  message,
  type NetlinkSocket,
  NLM_F_ACK,
  NLM_F_REQUEST,
} from "../libc/netlink.ts";

// linux/netfilter/nfnetlink.h, nfnetlink_conntrack.h
const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_DELETE = 2;
const CTA_MARK = 8;
const CTA_MARK_MASK = 21;

/** The number of conntrack entries of the namespace the calling thread is in. */
const entries = () => Number(Deno.readTextFileSync("/proc/sys/net/netfilter/nf_conntrack_count"));

/**
 * Deletes every IPv4 conntrack entry with ct mark `mark` in the router `netns`, through
 * `socket` (a netfilter netlink socket of that namespace); returns when that was done and
 * how many entries went: the namespace's own count just before and just after, microseconds
 * apart. Not a dump: listing walks the kernel's whole conntrack hash, shared by every
 * namespace (milliseconds), a flush by mark does not.
 */
export function forgetMarked(
  socket: NetlinkSocket,
  netns: string,
  mark: number,
): Done & { deleted: number } {
  const seq = socket.nextSeq();
  const body = concat([
    new Uint8Array([AF_INET, 0, 0, 0]), // nfgenmsg: IPv4 entries
    attr(CTA_MARK, be32(mark)),
    attr(CTA_MARK_MASK, be32(0xffffffff)),
  ]);
  const flush = message(
    (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE,
    NLM_F_REQUEST | NLM_F_ACK,
    seq,
    body,
  );
  return inNetns(netns, () => {
    const before = entries();
    const done = socket.request("conntrack flush", flush, seq);
    return { ...done, deleted: Math.max(0, before - entries()) };
  });
}
