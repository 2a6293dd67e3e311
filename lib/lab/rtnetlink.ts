/**
 * The few rtnetlink requests that wire a lab (what `ip link add … type veth`, `ip addr add`,
 * `ip link set … up` and `ip route add default via …` send), made on a netlink socket of the
 * namespace concerned: no process per lab, and each request is done when its send returns.
 *
 * @module
 */

import { addressBytes, AF_INET, AF_INET6, cString, libc } from "../libc/libc.ts";
import {
  attr,
  concat,
  message,
  type NetlinkSocket,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_REQUEST,
} from "../libc/netlink.ts";
import { openNetns } from "../libc/netns.ts";

// linux/rtnetlink.h, if_link.h, veth.h, if_addr.h
const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const NLM_F_EXCL = 0x200;
const IFF_UP = 0x1;
const IFLA_IFNAME = 3;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_F_NODAD = 0x02;
const RTA_GATEWAY = 5;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RTN_UNICAST = 1;
const LOOPBACK_INDEX = 1;

/** ifinfomsg: family, type, index, flags, change. */
function ifinfo(index: number, flags = 0, change = 0): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setInt32(4, index, true);
  view.setUint32(8, flags, true);
  view.setUint32(12, change, true);
  return out;
}

const u32 = (value: number) => new Uint8Array(new Uint32Array([value]).buffer);

function send(socket: NetlinkSocket, what: string, type: number, flags: number, body: Uint8Array) {
  const seq = socket.nextSeq();
  socket.request(what, message(type, NLM_F_REQUEST | NLM_F_ACK | flags, seq, body), seq);
}

/**
 * Adds a veth pair in `socket`'s namespace: `name` with interface index `index` here, its peer
 * `peer` (index `peerIndex`) made straight in the namespace `peerNetns`.
 */
export function addVeth(
  socket: NetlinkSocket,
  link: { name: string; index: number },
  peer: { name: string; index: number; netns: string },
): void {
  const fd = openNetns(peer.netns);
  try {
    const peerInfo = concat([
      ifinfo(peer.index),
      attr(IFLA_IFNAME, cString(peer.name)),
      attr(IFLA_NET_NS_FD, u32(fd)),
    ]);
    const linkInfo = concat([
      attr(IFLA_INFO_KIND, cString("veth")),
      attr(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peerInfo)),
    ]);
    send(
      socket,
      `veth ${link.name}`,
      RTM_NEWLINK,
      NLM_F_CREATE | NLM_F_EXCL,
      concat([
        ifinfo(link.index),
        attr(IFLA_IFNAME, cString(link.name)),
        attr(IFLA_LINKINFO, linkInfo),
      ]),
    );
  } finally {
    libc().close(fd);
  }
}

/** Sets the link of interface index `index` up (the loopback when none is given). */
export function linkUp(socket: NetlinkSocket, index = LOOPBACK_INDEX): void {
  send(socket, `link ${index} up`, RTM_NEWLINK, 0, ifinfo(index, IFF_UP, IFF_UP));
}

function familyOf(address: string): number {
  return address.includes(":") ? AF_INET6 : AF_INET;
}

/** Adds `address`/`prefix` to the interface `index`; IPv6 without duplicate detection. */
export function addAddress(socket: NetlinkSocket, index: number, address: string, prefix: number) {
  const family = familyOf(address);
  // ifaddrmsg: family, prefix length, flags, scope, index.
  const head = new Uint8Array(8);
  head.set([family, prefix, family === AF_INET6 ? IFA_F_NODAD : 0, 0]);
  new DataView(head.buffer).setUint32(4, index, true);
  const bytes = addressBytes(address);
  send(
    socket,
    `address ${address}`,
    RTM_NEWADDR,
    NLM_F_CREATE | NLM_F_EXCL,
    concat([head, attr(IFA_LOCAL, bytes), attr(IFA_ADDRESS, bytes)]),
  );
}

/** Adds the default route of `gateway`'s family via `gateway`. */
export function addDefaultRoute(socket: NetlinkSocket, gateway: string): void {
  // rtmsg: family, dst len, src len, tos, table, protocol, scope, type, flags.
  const head = new Uint8Array(12);
  head.set([familyOf(gateway), 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, 0, RTN_UNICAST]);
  send(
    socket,
    `default route via ${gateway}`,
    RTM_NEWROUTE,
    NLM_F_CREATE | NLM_F_EXCL,
    concat([head, attr(RTA_GATEWAY, addressBytes(gateway))]),
  );
}
