/**
 * The synchronous part of making and removing a lab's hosts: namespaces, their sysctls,
 * links, addresses and routes, all through system calls of the calling thread (no process).
 * These calls wait for the kernel's locks (rtnl, the namespace list), which other labs' builds
 * and teardowns hold: the runner makes them on a thread of their own (lab_thread.ts), so its
 * event loop never waits for them.
 *
 * @module
 */

import { addNetns, deleteNetns, inNetns, netnsPids } from "../libc/netns.ts";
import { NETLINK_ROUTE, NetlinkSocket } from "../libc/netlink.ts";
import {
  BYSTANDER,
  CLIENT,
  NAT_PUBLIC_V4,
  PREFIX,
  ROUTER_CLIENT_SIDE,
  ROUTER_SERVER_SIDE,
  SERVER,
} from "./address_plan.ts";
import { addAddress, addDefaultRoute, addVeth, linkUp } from "./rtnetlink.ts";

/** Namespace names of a lab's three hosts. */
export interface LabHosts {
  /** The client host: the client under test and the bystander. */
  client: string;
  /** The router between them, where most faults act. */
  router: string;
  /** The server host: the target. */
  server: string;
}

/**
 * Makes the three namespaces, from inside `base` when given (see base_namespace.ts), each with
 * its sysctls set before any link exists.
 */
export function makeNamespaces(hosts: LabHosts, base: string | undefined): void {
  const { client, router, server } = hosts;
  for (const ns of [client, router, server]) {
    addNetns(ns, base);
    // No duplicate address detection (addresses usable at once, the first SYN is not lost),
    // and forwarding in the router. These sysctls are the namespace's own.
    inNetns(ns, () => {
      for (const c of ["all", "default"]) {
        Deno.writeTextFileSync(`/proc/sys/net/ipv6/conf/${c}/accept_dad`, "0");
      }
      if (ns !== router) return;
      Deno.writeTextFileSync("/proc/sys/net/ipv4/ip_forward", "1");
      Deno.writeTextFileSync("/proc/sys/net/ipv6/conf/all/forwarding", "1");
    });
  }
}

/** Links, addresses and routes of the three hosts, through rtnetlink in each. */
export function wire(hosts: LabHosts): void {
  const { client, router, server } = hosts;
  const sockets: NetlinkSocket[] = [];
  try {
    // Opened inside the try: one that fails must not leave those before it open (an open
    // netlink socket keeps its namespace alive).
    for (const ns of [router, client, server]) sockets.push(new NetlinkSocket(ns, NETLINK_ROUTE));
    const [atRouter, atClient, atServer] = sockets as [NetlinkSocket, NetlinkSocket, NetlinkSocket];
    // Each veth's index differs from its peer's: linkwatch takes a change of a link whose
    // index equals its iflink for a plain one and delays it up to a second, and until it runs
    // IPv6 on the link is not ready (no ff00::/8 route: a neighbour solicitation to the host is
    // dropped, and the first SYN of a new IPv6 address is retried a second later).
    addVeth(atRouter, { name: "r0", index: LINK_INDEX.r0 }, {
      name: "c0",
      index: LINK_INDEX.c0,
      netns: client,
    });
    addVeth(atRouter, { name: "r1", index: LINK_INDEX.r1 }, {
      name: "s0",
      index: LINK_INDEX.s0,
      netns: server,
    });
    linkUp(atRouter);
    addAddress(atRouter, LINK_INDEX.r0, ROUTER_CLIENT_SIDE.v4, PREFIX.v4);
    addAddress(atRouter, LINK_INDEX.r0, ROUTER_CLIENT_SIDE.v6, PREFIX.v6);
    addAddress(atRouter, LINK_INDEX.r1, ROUTER_SERVER_SIDE.v4, PREFIX.v4);
    addAddress(atRouter, LINK_INDEX.r1, NAT_PUBLIC_V4, 24);
    addAddress(atRouter, LINK_INDEX.r1, ROUTER_SERVER_SIDE.v6, PREFIX.v6);
    linkUp(atRouter, LINK_INDEX.r0);
    linkUp(atRouter, LINK_INDEX.r1);
    wireHost(atClient, LINK_INDEX.c0, [CLIENT, BYSTANDER], ROUTER_CLIENT_SIDE);
    wireHost(atServer, LINK_INDEX.s0, [SERVER], ROUTER_SERVER_SIDE);
  } finally {
    for (const socket of sockets) socket.close();
  }
}

/** The interface index of each lab link: no veth shares its peer's index. */
export const LINK_INDEX = { r0: 10, r1: 11, c0: 20, s0: 30 } as const;

// The first address is the host's own and the source of every unbound socket; the others
// (the bystander) are used only by sockets bound to them. IPv4 picks the primary (first)
// address; IPv6 prefers the most recently added one among equals, so it is added last.
function wireHost(
  socket: NetlinkSocket,
  index: number,
  addresses: { v4: string; v6: string }[],
  gateway: { v4: string; v6: string },
): void {
  linkUp(socket);
  for (const a of addresses) addAddress(socket, index, a.v4, PREFIX.v4);
  for (const a of addresses.toReversed()) addAddress(socket, index, a.v6, PREFIX.v6);
  linkUp(socket, index);
  addDefaultRoute(socket, gateway.v4);
  addDefaultRoute(socket, gateway.v6);
}

/** Ends every process inside the namespaces (all of them the lab's own), then deletes them. */
export function removeNamespaces(names: readonly string[]): void {
  for (const pid of netnsPids(names)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
  deleteNetns(names);
}
