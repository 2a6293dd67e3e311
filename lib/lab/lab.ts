/**
 * A lab: three network namespaces (client host, router, server host) joined by two veth
 * pairs, IPv4 and IPv6, documentation addresses only. Nothing in the root namespace is
 * changed: links are created inside the router namespace and moved straight into their peers.
 *
 * Building and tearing down start one process, as a lab is built for every scenario and many
 * are built at once: namespaces are made, set and deleted from the runner's own thread
 * (lib/libc/netns.ts), links, addresses and routes are set through rtnetlink in each
 * (rtnetlink.ts), and one `nft -f` loads the router's fault tables, dormant (fault_tables.ts).
 *
 * @module
 */

import { addNetns, deleteNetns, inNetns, listNetns, netnsPids } from "../libc/netns.ts";
import { NETLINK_NETFILTER, NETLINK_ROUTE, NetlinkSocket } from "../libc/netlink.ts";
import { acquireBase, dropBase, releaseBase } from "./base_namespace.ts";
import {
  BYSTANDER,
  CLIENT,
  NAT_PUBLIC_V4,
  PREFIX,
  ROUTER_CLIENT_SIDE,
  ROUTER_SERVER_SIDE,
  SERVER,
} from "./address_plan.ts";
import { FaultTables, loadFaultTables } from "./fault_tables.ts";
import { addAddress, addDefaultRoute, addVeth, linkUp } from "./rtnetlink.ts";
import { type HostRole, netnsName, parseNetnsName, runId } from "./names.ts";
import { labDir, removeLabDirs } from "./state_dir.ts";

/** Namespace names of a lab's three hosts. */
export interface LabHosts {
  /** The client host: the client under test and the bystander. */
  client: string;
  /** The router between them, where most faults act. */
  router: string;
  /** The server host: the target. */
  server: string;
}

// Every lab of this process from the moment it is named until its teardown has finished:
// one still being built is in here too, so nothing can slip past a final teardown.
const present = new Set<Lab>();
let nextIndex = 1;

/** A running lab. Call `teardown()` in `finally`. */
export class Lab {
  /** The run it belongs to (see names.ts). */
  readonly run: string;
  /** Its number within the run. */
  readonly index: number;
  /** Its namespaces. */
  readonly hosts: LabHosts;
  /** The lab's own directory (configs, logs, captures). */
  readonly dir: string;
  /** Whether its namespaces were made from the run's base namespace (to release it). */
  usesBase = false;
  #faultTables: FaultTables | undefined;
  readonly #netlink = new Map<string, NetlinkSocket>();
  #socketsClosed = false;
  #built: Promise<void> = Promise.resolve();
  #down: Promise<void> | undefined;

  /** Names a lab; `build()` makes it. */
  constructor(run: string, index: number) {
    this.run = run;
    this.index = index;
    const name = (role: HostRole) => netnsName(run, index, role);
    this.hosts = { client: name("cli"), router: name("rtr"), server: name("srv") };
    this.dir = labDir(run, index);
  }

  /** Builds the lab; teardown() waits for it, so a build under way is never left half made. */
  build(): Promise<void> {
    this.#built = build(this);
    return this.#built;
  }

  /** The router's fault tables, once the lab is built. */
  get faultTables(): FaultTables {
    if (!this.#faultTables) throw new Error(`Lab "${this.hosts.router}" is not built`);
    return this.#faultTables;
  }

  /** Called by the build once the tables are loaded. */
  set faultTables(tables: FaultTables) {
    this.#faultTables = tables;
  }

  /**
   * A netlink socket of `protocol` in one of the lab's hosts, opened on first use and closed at
   * teardown: requests on it (nf_tables, conntrack, socket destroy) start no process.
   */
  netlink(host: keyof LabHosts, protocol: number): NetlinkSocket {
    if (this.#socketsClosed) throw new Error(`Lab "${this.hosts.router}" is torn down`);
    const key = `${host} ${protocol}`;
    let socket = this.#netlink.get(key);
    if (!socket) {
      socket = new NetlinkSocket(this.hosts[host], protocol);
      this.#netlink.set(key, socket);
    }
    return socket;
  }

  /**
   * Removes the lab: waits for a build still under way, ends what still runs inside it,
   * deletes its namespaces and files. Idempotent; safe to call at any time.
   */
  teardown(): Promise<void> {
    this.#down ??= (async () => {
      try {
        await this.#built.catch(() => {});
        // A socket holds its namespace: closed first, or the kernel keeps it.
        this.#socketsClosed = true;
        for (const socket of this.#netlink.values()) socket.close();
        removeNamespaces(Object.values(this.hosts));
        if (this.usesBase) releaseBase();
        await Deno.remove(this.dir, { recursive: true }).catch(() => {});
      } finally {
        present.delete(this);
      }
    })();
    return this.#down;
  }
}

/** Labs of this process not yet torn down, including those still being built. */
export function activeLabs(): Lab[] {
  return [...present];
}

/**
 * Tears down every lab of this process, those still being built included, and waits until
 * nothing of the run is left: no lab namespace, no base namespace, no lab directory.
 * For the end of a run that was interrupted; each lab's own `teardown()` is still the rule.
 */
export async function tearDownAll(): Promise<void> {
  while (present.size) {
    await Promise.allSettled([...present].map((lab) => lab.teardown()));
  }
  dropBase();
  // Whatever else carries this run's name (a probe's scratch namespace, a directory a failed
  // removal kept) goes too.
  const own = runId();
  removeNamespaces(listNetns().filter((n) => parseNetnsName(n)?.run === own));
  removeLabDirs(own);
}

/** Creates a lab and waits until it is ready to carry traffic. */
export async function createLab(): Promise<Lab> {
  const lab = new Lab(runId(), nextIndex++);
  present.add(lab);
  try {
    await lab.build();
  } catch (error) {
    await lab.teardown();
    throw error;
  }
  return lab;
}

async function build(lab: Lab): Promise<void> {
  const { client, router, server } = lab.hosts;
  await Deno.mkdir(lab.dir, { recursive: true });
  lab.usesBase = true; // set first: acquireBase counts the user even when it fails
  const base = acquireBase();
  for (const ns of [client, router, server]) {
    addNetns(ns, base);
    // Before any link exists: no duplicate address detection (addresses usable at once, the
    // first SYN is not lost), and forwarding in the router. These sysctls are the namespace's own.
    inNetns(ns, () => {
      for (const c of ["all", "default"]) {
        Deno.writeTextFileSync(`/proc/sys/net/ipv6/conf/${c}/accept_dad`, "0");
      }
      if (ns !== router) return;
      Deno.writeTextFileSync("/proc/sys/net/ipv4/ip_forward", "1");
      Deno.writeTextFileSync("/proc/sys/net/ipv6/conf/all/forwarding", "1");
    });
  }
  // nft parses in a process of its own while the runner wires the links. Waited for even when
  // the wiring fails: a teardown must not race its fallback's nft processes.
  const tables = loadFaultTables(router);
  let missing;
  try {
    wire(lab);
  } finally {
    missing = await tables;
  }
  lab.faultTables = new FaultTables(lab.netlink("router", NETLINK_NETFILTER), missing);
}

/** Links, addresses and routes of the three hosts, through rtnetlink in each. */
function wire(lab: Lab): void {
  const { client, router, server } = lab.hosts;
  const sockets: NetlinkSocket[] = [];
  try {
    // Opened inside the try: one that fails must not leave those before it open.
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
