/**
 * The router's fault tables: every drop or rejection a fault may need is loaded when the lab
 * is built, each in a table of its own marked `dormant` (its hooks not registered: it sees no
 * packet). A fault wakes its table and heal puts it back to sleep, each with one nf_tables
 * message sent on a netlink socket opened in the router's namespace at build: no process is
 * started on a fault's critical path, and the kernel has the change in place when the send
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
import { cString } from "../libc/libc.ts";
import { run } from "../process/spawn.ts";
import { CLIENT } from "./address_plan.ts";

/**
 * Each table and its chains. Forward only: the router's own stack plays no part in a client's
 * conversation with the server, and after a NAT's prerouting the reply's address is already
 * the client's again.
 */
const TABLES = {
  // vanish: every packet of the client, both ways, v4 and v6.
  cd_vanish: ` chain forward {
  type filter hook forward priority filter - 10; policy accept;
  ip saddr ${CLIENT.v4} counter drop
  ip daddr ${CLIENT.v4} counter drop
  ip6 saddr ${CLIENT.v6} counter drop
  ip6 daddr ${CLIENT.v6} counter drop
 }`,
  // vanish-after-syn: the client's SYN passes (and the server's SYN-ACK back), nothing else.
  cd_after_syn: ` chain forward {
  type filter hook forward priority filter - 10; policy accept;
  ip saddr ${CLIENT.v4} tcp flags & (syn | ack) != syn counter drop
  ip6 saddr ${CLIENT.v6} tcp flags & (syn | ack) != syn counter drop
 }`,
  // icmp-unreachable: icmpx picks the ICMP or ICMPv6 code of the same meaning for each family.
  cd_icmp_host_unreachable: icmpRules("host-unreachable"),
  cd_icmp_admin_prohibited: icmpRules("admin-prohibited"),
} as const;

function icmpRules(kind: string): string {
  return ` chain forward {
  type filter hook forward priority filter - 10; policy accept;
  ip daddr ${CLIENT.v4} counter reject with icmpx ${kind}
  ip6 daddr ${CLIENT.v6} counter reject with icmpx ${kind}
  ip saddr ${CLIENT.v4} counter drop
  ip6 saddr ${CLIENT.v6} counter drop
 }`;
}

/** The name of one of the router's fault tables. */
export type FaultTableName = keyof typeof TABLES;

function tableScript(name: string, body: string): string {
  return `table inet ${name} {\n flags dormant\n${body}\n}\n`;
}

/**
 * Loads every fault table into `router`, dormant, with one `nft -f` (one transaction); when
 * that fails (no nft, or a kernel without a rule's expression, e.g. reject), each table is
 * loaded alone and those that fail are returned with the reason: the lab still serves the
 * scenarios that need none of them (a fault checks the machine's capabilities first).
 */
export async function loadFaultTables(router: string): Promise<Map<FaultTableName, string>> {
  const load = (script: string) => run(["nft", "-f", "-"], { netns: router, input: script });
  const entries = Object.entries(TABLES) as [FaultTableName, string][];
  const missing = new Map<FaultTableName, string>();
  try {
    await load(entries.map(([name, body]) => tableScript(name, body)).join(""));
  } catch {
    for (const [name, body] of entries) {
      await load(tableScript(name, body)).catch((error) => missing.set(name, String(error)));
    }
  }
  return missing;
}

// nfnetlink and nf_tables constants (linux/netfilter/nfnetlink.h, nf_tables.h).
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_NEWTABLE = 0;
const NFTA_TABLE_NAME = 1;
const NFTA_TABLE_FLAGS = 2;
const NFT_TABLE_F_DORMANT = 0x1;
const NFPROTO_UNSPEC = 0;
const NFPROTO_INET = 1;

/** nfgenmsg: family, version 0, resource id in network order. */
function nfgen(family: number, resId = 0): Uint8Array {
  return new Uint8Array([family, 0, resId >> 8, resId & 0xff]);
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
    const batch = concat([
      message(
        NFNL_MSG_BATCH_BEGIN,
        NLM_F_REQUEST,
        seq,
        nfgen(NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES),
      ),
      message(
        (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        concat([
          nfgen(NFPROTO_INET),
          attr(NFTA_TABLE_NAME, cString(table)),
          attr(NFTA_TABLE_FLAGS, be32(flags)),
        ]),
      ),
      message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq, nfgen(NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES)),
    ]);
    return this.#socket.request(`${flags ? "sleep" : "wake"} table "${table}"`, batch, seq);
  }
}
