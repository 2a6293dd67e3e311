/**
 * nf_tables' netlink messages (linux/netfilter/nf_tables.h, nfnetlink.h): tables, base chains,
 * rules and the expressions the lab's fault tables use, built as bytes for a netfilter netlink
 * socket, so that loading them starts no `nft` process. A rule here is what `nft` itself sends
 * for the same line (`nft --debug=netlink` shows it): fault_tables_test.ts checks that nft
 * lists each table exactly as it lists the table it made from the same rules as text.
 *
 * @module
 */

import {
  attr,
  be32,
  concat,
  message,
  nested,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_REQUEST,
} from "../libc/netlink.ts";
import { addressBytes, cString } from "../libc/libc.ts";

const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_NEWTABLE = 0;
const NFT_MSG_NEWCHAIN = 3;
const NFT_MSG_NEWRULE = 6;
const NLM_F_APPEND = 0x800;

const NFTA_TABLE_NAME = 1;
const NFTA_TABLE_FLAGS = 2;
const NFTA_CHAIN_TABLE = 1;
const NFTA_CHAIN_NAME = 3;
const NFTA_CHAIN_HOOK = 4;
const NFTA_CHAIN_POLICY = 5;
const NFTA_CHAIN_TYPE = 7;
const NFTA_HOOK_HOOKNUM = 1;
const NFTA_HOOK_PRIORITY = 2;
const NFTA_RULE_TABLE = 1;
const NFTA_RULE_CHAIN = 2;
const NFTA_RULE_EXPRESSIONS = 4;
const NFTA_LIST_ELEM = 1;
const NFTA_EXPR_NAME = 1;
const NFTA_EXPR_DATA = 2;
const NFTA_DATA_VALUE = 1;
const NFTA_DATA_VERDICT = 2;
const NFTA_VERDICT_CODE = 1;

/** nfgenmsg's families. */
const NFPROTO_UNSPEC = 0;
const NFPROTO_INET = 1;
const NFPROTO_IPV4 = 2;
const NFPROTO_IPV6 = 10;

/** The dormant flag of a table: its chains' hooks are not registered, it sees no packet. */
export const NFT_TABLE_F_DORMANT = 0x1;
/** The forward hook of the inet family. */
export const NF_INET_FORWARD = 2;
/** Verdicts. */
export const NF_DROP = 0;
export const NF_ACCEPT = 1;

/** The register every match below loads into and compares (NFT_REG_1). */
const REG = 1;
/** The verdict register. */
const REG_VERDICT = 0;

/** nfgenmsg: family, version 0, resource id in network order. */
function nfgen(family: number, resId = 0): Uint8Array {
  return new Uint8Array([family, 0, resId >> 8, resId & 0xff]);
}

/** One nf_tables message of a batch: its type, its flags (besides the request) and attributes. */
export interface NftMessage {
  type: number;
  flags: number;
  attrs: readonly Uint8Array[];
}

/**
 * One nf_tables transaction: every message between a batch's begin and end, committed at once
 * or not at all. Only the last asks for an acknowledgment; a refusal of any is an error.
 */
export function batch(seq: number, messages: readonly NftMessage[]): Uint8Array {
  const begin = nfgen(NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
  return concat([
    message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq, begin),
    ...messages.map((m, i) =>
      message(
        (NFNL_SUBSYS_NFTABLES << 8) | m.type,
        NLM_F_REQUEST | m.flags | (i === messages.length - 1 ? NLM_F_ACK : 0),
        seq,
        concat([nfgen(NFPROTO_INET), ...m.attrs]),
      )
    ),
    message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq, begin),
  ]);
}

/**
 * An inet table `name` with `flags`: made (`create`), or only its flags set (an existing
 * table's switch).
 */
export function newTable(name: string, flags: number, create: boolean): NftMessage {
  return {
    type: NFT_MSG_NEWTABLE,
    flags: create ? NLM_F_CREATE : 0,
    attrs: [attr(NFTA_TABLE_NAME, cString(name)), attr(NFTA_TABLE_FLAGS, be32(flags))],
  };
}

/** A filter base chain of an inet table: its hook, priority and policy. */
export function newBaseChain(
  table: string,
  chain: string,
  hook: { hooknum: number; priority: number; policy: number },
): NftMessage {
  return {
    type: NFT_MSG_NEWCHAIN,
    flags: NLM_F_CREATE,
    attrs: [
      attr(NFTA_CHAIN_TABLE, cString(table)),
      attr(NFTA_CHAIN_NAME, cString(chain)),
      nested(NFTA_CHAIN_HOOK, [
        attr(NFTA_HOOK_HOOKNUM, be32(hook.hooknum)),
        attr(NFTA_HOOK_PRIORITY, be32(hook.priority >>> 0)),
      ]),
      attr(NFTA_CHAIN_POLICY, be32(hook.policy)),
      attr(NFTA_CHAIN_TYPE, cString("filter")),
    ],
  };
}

/** A rule appended to a chain: its expressions in order. */
export function newRule(table: string, chain: string, exprs: readonly Uint8Array[]): NftMessage {
  return {
    type: NFT_MSG_NEWRULE,
    flags: NLM_F_CREATE | NLM_F_APPEND,
    attrs: [
      attr(NFTA_RULE_TABLE, cString(table)),
      attr(NFTA_RULE_CHAIN, cString(chain)),
      nested(NFTA_RULE_EXPRESSIONS, exprs),
    ],
  };
}

/** One expression of a rule: its name and its data. */
function expr(name: string, data: readonly Uint8Array[]): Uint8Array {
  return nested(NFTA_LIST_ELEM, [
    attr(NFTA_EXPR_NAME, cString(name)),
    nested(NFTA_EXPR_DATA, data),
  ]);
}

const u8 = (value: number) => new Uint8Array([value]);
const be64zero = () => new Uint8Array(8);

// meta (NFTA_META_*), cmp, payload, bitwise, counter, immediate and reject attributes.
const NFT_META_NFPROTO = 15;
const NFT_META_L4PROTO = 16;
const NFT_CMP_EQ = 0;
const NFT_CMP_NEQ = 1;
const NFT_PAYLOAD_NETWORK_HEADER = 1;
const NFT_PAYLOAD_TRANSPORT_HEADER = 2;
const IPPROTO_TCP = 6;

function meta(key: number): Uint8Array {
  return expr("meta", [attr(1, be32(REG)), attr(2, be32(key))]);
}

function cmp(op: number, value: Uint8Array): Uint8Array {
  return expr("cmp", [
    attr(1, be32(REG)),
    attr(2, be32(op)),
    nested(3, [attr(NFTA_DATA_VALUE, value)]),
  ]);
}

function payload(base: number, offset: number, length: number): Uint8Array {
  return expr("payload", [
    attr(1, be32(REG)),
    attr(2, be32(base)),
    attr(3, be32(offset)),
    attr(4, be32(length)),
  ]);
}

/** `ip saddr A` / `ip6 daddr A` …: the packet's family, then its address field. */
export function addressIs(address: string, field: "saddr" | "daddr"): Uint8Array[] {
  const v6 = address.includes(":");
  const offset = v6 ? (field === "saddr" ? 8 : 24) : (field === "saddr" ? 12 : 16);
  return [
    meta(NFT_META_NFPROTO),
    cmp(NFT_CMP_EQ, u8(v6 ? NFPROTO_IPV6 : NFPROTO_IPV4)),
    payload(NFT_PAYLOAD_NETWORK_HEADER, offset, v6 ? 16 : 4),
    cmp(NFT_CMP_EQ, addressBytes(address)),
  ];
}

/** `tcp flags & (syn | ack) != syn`: a TCP segment other than a connection's first SYN. */
export function notFirstSyn(): Uint8Array[] {
  const SYN = 0x02;
  const ACK = 0x10;
  return [
    meta(NFT_META_L4PROTO),
    cmp(NFT_CMP_EQ, u8(IPPROTO_TCP)),
    payload(NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1),
    expr("bitwise", [
      attr(1, be32(REG)),
      attr(2, be32(REG)),
      attr(3, be32(1)),
      nested(4, [attr(NFTA_DATA_VALUE, u8(SYN | ACK))]),
      nested(5, [attr(NFTA_DATA_VALUE, u8(0))]),
    ]),
    cmp(NFT_CMP_NEQ, u8(SYN)),
  ];
}

/** `counter`. */
export function counter(): Uint8Array {
  return expr("counter", [attr(1, be64zero()), attr(2, be64zero())]);
}

/** A verdict (`drop`, `accept`). */
export function verdict(code: number): Uint8Array {
  return expr("immediate", [
    attr(1, be32(REG_VERDICT)),
    nested(2, [nested(NFTA_DATA_VERDICT, [attr(NFTA_VERDICT_CODE, be32(code))])]),
  ]);
}

/** `reject with icmpx <code>`: the ICMP or ICMPv6 code of that meaning for each family. */
export const ICMPX = { "host-unreachable": 2, "admin-prohibited": 3 } as const;

/** `reject with icmpx …`. */
export function rejectIcmpx(code: keyof typeof ICMPX): Uint8Array {
  const NFT_REJECT_ICMPX_UNREACH = 2;
  return expr("reject", [attr(1, be32(NFT_REJECT_ICMPX_UNREACH)), attr(2, u8(ICMPX[code]))]);
}
