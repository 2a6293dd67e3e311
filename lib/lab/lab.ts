/**
 * A lab: three network namespaces (client host, router, server host) joined by two veth
 * pairs, IPv4 and IPv6, documentation addresses only. Nothing in the root namespace is
 * changed: links are created inside the router namespace and moved straight into their peers.
 *
 * Building and tearing down start no process, as a lab is built for every scenario and many
 * are built at once: namespaces are made, set and deleted, and links, addresses and routes set
 * through rtnetlink, by system calls on the runner's lab threads (host_setup.ts,
 * lab_thread.ts); one nf_tables transaction on a netlink socket in the router loads its fault
 * tables, dormant (fault_tables.ts).
 *
 * @module
 */

import { listNetns } from "../libc/netns.ts";
import { NETLINK_NETFILTER, NetlinkSocket } from "../libc/netlink.ts";
import { acquireBase, dropBase, releaseBase } from "./base_namespace.ts";
import { FaultTables, loadFaultTables } from "./fault_tables.ts";
import { type LabHosts, removeNamespaces } from "./host_setup.ts";
import { endLabThreads, onLabThread } from "./lab_thread.ts";
import { type HostRole, netnsName, parseNetnsName, runId } from "./names.ts";
import { labDir, removeLabDirs } from "./state_dir.ts";

export type { LabHosts };

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
        await onLabThread({ op: "remove", names: Object.values(this.hosts) });
        if (this.usesBase) await releaseBase();
        await Deno.remove(this.dir, { recursive: true }).catch(() => {});
      } finally {
        present.delete(this);
        if (present.size === 0) endLabThreads();
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
  await dropBase();
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
  await Deno.mkdir(lab.dir, { recursive: true });
  lab.usesBase = true; // set first: acquireBase counts the user even when it fails
  const base = await acquireBase();
  await onLabThread({ op: "build", hosts: lab.hosts, ...(base ? { base } : {}) });
  const netfilter = lab.netlink("router", NETLINK_NETFILTER);
  lab.faultTables = new FaultTables(netfilter, loadFaultTables(netfilter));
}
