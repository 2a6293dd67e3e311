/**
 * The router's fault tables: every drop or rejection a fault may need is loaded when the lab
 * is built, each in a table of its own marked `dormant` (its hooks not registered: it sees no
 * packet), by one nf_tables transaction (nf_tables.ts). A fault wakes its table and its undo
 * puts it back to sleep, each with one nf_tables message sent on the same netlink socket,
 * opened in the router's namespace at build: no process is started, at build or on a fault's
 * critical path, and the kernel has the change in place when the send
 * system call returns (NetlinkSocket.request). A table that wakes registers its hooks at once;
 * one put to sleep unregisters them as the same message commits.
 *
 * A table is only ever woken once it is known to be loaded: nf_tables answers a switch of a
 * table it does not have by making an empty one, which would drop nothing.
 *
 * The rules name the client's addresses (CLIENT): the client host's own, never the bystander's.
 *
 * @module
 */

import type { Done, NetlinkSocket } from "../libc/netlink.ts";
import { CLIENT } from "./address_plan.ts";
import {
  addressIs,
  batch,
  counter,
  newBaseChain,
  newRule,
  newTable,
  NF_ACCEPT,
  NF_DROP,
  NF_INET_FORWARD,
  NFT_TABLE_F_DORMANT,
  notFirstSyn,
  rejectIcmpx,
  verdict,
} from "./nf_tables.ts";

const drop = [counter(), verdict(NF_DROP)];
const reject = (code: Parameters<typeof rejectIcmpx>[0]) => [counter(), rejectIcmpx(code)];
const { v4, v6 } = CLIENT;

/**
 * Each table's rules, in its one chain `forward` (`type filter hook forward priority filter -
 * 10; policy accept`). Forward only: the router's own stack plays no part in a client's
 * conversation with the server, and after a NAT's prerouting the reply's address is already
 * the client's again.
 */
const TABLES = {
  // vanish: every packet of the client, both ways, v4 and v6 (`ip saddr C counter drop`, …).
  cd_vanish: [
    [...addressIs(v4, "saddr"), ...drop],
    [...addressIs(v4, "daddr"), ...drop],
    [...addressIs(v6, "saddr"), ...drop],
    [...addressIs(v6, "daddr"), ...drop],
  ],
  // vanish-after-syn: the client's SYN passes (and the server's SYN-ACK back), nothing else
  // (`ip saddr C tcp flags & (syn | ack) != syn counter drop`, and ip6).
  cd_after_syn: [
    [...addressIs(v4, "saddr"), ...notFirstSyn(), ...drop],
    [...addressIs(v6, "saddr"), ...notFirstSyn(), ...drop],
  ],
  // icmp-unreachable: what goes to the client is answered by the router with ICMP (`ip daddr C
  // counter reject with icmpx …`; icmpx picks the ICMP or ICMPv6 code of the same meaning for
  // each family), what comes from it is dropped.
  cd_icmp_host_unreachable: icmpRules("host-unreachable"),
  cd_icmp_admin_prohibited: icmpRules("admin-prohibited"),
} as const;

function icmpRules(code: Parameters<typeof rejectIcmpx>[0]): Uint8Array[][] {
  return [
    [...addressIs(v4, "daddr"), ...reject(code)],
    [...addressIs(v6, "daddr"), ...reject(code)],
    [...addressIs(v4, "saddr"), ...drop],
    [...addressIs(v6, "saddr"), ...drop],
  ];
}

/** The name of one of the router's fault tables. */
export type FaultTableName = keyof typeof TABLES;

/** The chain every fault table has. */
const CHAIN = "forward";
const HOOK = { hooknum: NF_INET_FORWARD, priority: -10, policy: NF_ACCEPT };

/** The messages that make table `name`, dormant, with its chain and rules. */
function tableMessages(name: FaultTableName) {
  return [
    newTable(name, NFT_TABLE_F_DORMANT, true),
    newBaseChain(name, CHAIN, HOOK),
    ...TABLES[name].map((rule) => newRule(name, CHAIN, rule)),
  ];
}

/**
 * Loads every fault table, dormant, through `socket` (a netfilter netlink socket opened in the
 * router) in one transaction: no process is started. When that fails (a kernel without a
 * rule's expression, e.g. reject), each table is loaded alone and those that fail are returned
 * with the reason: the lab still serves the scenarios that need none of them (a fault checks
 * the machine's capabilities first).
 */
export function loadFaultTables(socket: NetlinkSocket): Map<FaultTableName, string> {
  const names = Object.keys(TABLES) as FaultTableName[];
  const load = (tables: readonly FaultTableName[]) => {
    const seq = socket.nextSeq();
    socket.request(`load ${tables.join(", ")}`, batch(seq, tables.flatMap(tableMessages)), seq);
  };
  const missing = new Map<FaultTableName, string>();
  try {
    load(names);
  } catch {
    for (const name of names) {
      try {
        load([name]);
      } catch (error) {
        missing.set(name, String(error));
      }
    }
  }
  return missing;
}

/** Switches the router's fault tables on and off. */
export class FaultTables {
  readonly #socket: NetlinkSocket;
  readonly #active = new Set<FaultTableName>();
  readonly #missing: ReadonlyMap<FaultTableName, string>;

  /**
   * The switch of a router whose tables are loaded but those in `missing` (with why), through
   * `socket`, a netfilter netlink socket opened in the router.
   */
  constructor(socket: NetlinkSocket, missing: ReadonlyMap<FaultTableName, string>) {
    this.#socket = socket;
    this.#missing = missing;
  }

  /** Wakes `table`; throws when it is active already (the fault is in place). */
  wake(table: FaultTableName): Done {
    if (this.#active.has(table)) throw new Error(`Fault table "${table}" is already active`);
    const missing = this.#missing.get(table);
    // Never woken by name alone: nf_tables would make an empty table of that name.
    if (missing) throw new Error(`Fault table "${table}" could not be loaded: ${missing}`);
    const done = this.#set(table, 0);
    this.#active.add(table);
    return done;
  }

  /** Puts `table` back to sleep; one asleep already is left alone (undone once). */
  sleep(table: FaultTableName): Done | undefined {
    if (!this.#active.has(table)) return undefined;
    const done = this.#set(table, NFT_TABLE_F_DORMANT);
    this.#active.delete(table);
    return done;
  }

  #set(table: FaultTableName, flags: number): Done {
    const seq = this.#socket.nextSeq();
    return this.#socket.request(
      `${flags ? "sleep" : "wake"} table "${table}"`,
      batch(seq, [newTable(table, flags, false)]),
      seq,
    );
  }
}
