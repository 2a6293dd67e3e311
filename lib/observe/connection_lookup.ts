/**
 * One connection of a namespace's socket table, or the listener of an address and port, looked
 * up through sock_diag: the kernel's own hash lookup, what `ss` asks for when it wants one
 * socket.
 *
 * Why not /proc/<pid>/net/tcp: reading it walks every bucket of the namespace's connection
 * hash and of the kernel's whole listening hash, however few sockets there are: 0.15–0.9 ms a
 * read on this project's 2-core machine. A watch reads its connection every 15–50 ms, for
 * every scenario in flight, so the reads alone took most of a core at 64 scenarios. The lookup
 * is two system calls. What it reports is what /proc shows, field for field: both are filled
 * from the same socket fields (`inet_sk_diag_fill` and `get_tcp4_sock`), with the timer's
 * remaining time in milliseconds instead of clock ticks.
 *
 * @module
 */

import { AF_INET, AF_INET6, IPPROTO_TCP } from "../libc/libc.ts";
import { diagAddress, SOCK_DIAG_BY_FAMILY } from "../libc/sock_diag.ts";
import { message, type NetlinkSocket, NLM_F_REQUEST } from "../libc/netlink.ts";
import { type SocketEntry, TCP_STATES, type TcpState, TIMERS } from "./proc_net_tcp.ts";
import { parseTcpInfo, type TcpInfo } from "./tcp_info.ts";
import type { Endpoint } from "./socket_watch.ts";

// linux/inet_diag.h
const INET_DIAG_INFO = 2;
/** Any socket, whatever its cookie. */
const INET_DIAG_NOCOOKIE = 0xffffffff;
/** inet_diag_msg: family, state, timer, retrans, the socket id (48), expires, rqueue, wqueue, uid, inode. */
const MSG_BYTES = 72;

/** The TCP state of an answer (idiag_state), undefined for one the kernel added since. */
function stateOf(body: Uint8Array): TcpState | undefined {
  return TCP_STATES[body[1] as keyof typeof TCP_STATES];
}

/** inet_diag_req_v2 asking for the one socket `local` ↔ `peer`, with its tcp_info. */
function lookupRequest(local: Endpoint, peer: Endpoint): Uint8Array {
  const req = new Uint8Array(56);
  const view = new DataView(req.buffer);
  req[0] = peer.address.includes(":") ? AF_INET6 : AF_INET;
  req[1] = IPPROTO_TCP;
  req[2] = 1 << (INET_DIAG_INFO - 1);
  view.setUint32(4, 0xffffffff, true); // every state
  view.setUint16(8, local.port, false);
  view.setUint16(10, peer.port, false);
  req.set(diagAddress(local.address), 12);
  req.set(diagAddress(peer.address), 28);
  view.setUint32(48, INET_DIAG_NOCOOKIE, true);
  view.setUint32(52, INET_DIAG_NOCOOKIE, true);
  return req;
}

/**
 * The socket table's row of an answer (inet_diag_msg and its attributes). Undefined for a
 * listener: a lookup that finds no connection falls back to the port's listening socket.
 */
export function entryOfAnswer(
  body: Uint8Array,
  local: Endpoint,
  peer: Endpoint,
): SocketEntry | undefined {
  if (body.length < MSG_BYTES) throw new Error(`sock_diag answer of ${body.length} bytes`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const state = stateOf(body);
  if (state === undefined || state === "LISTEN") return undefined;
  let info: TcpInfo | undefined;
  for (let at = MSG_BYTES; at + 4 <= body.length;) {
    const len = view.getUint16(at, true);
    if (len < 4) break;
    if ((view.getUint16(at + 2, true) & 0x3fff) === INET_DIAG_INFO) {
      info = parseTcpInfo(body.subarray(at + 4, at + len), len - 4);
    }
    at += (len + 3) & ~3;
  }
  return {
    local: { ...local },
    remote: { ...peer },
    state,
    txQueue: view.getUint32(60, true),
    rxQueue: view.getUint32(56, true),
    timer: TIMERS[body[2] ?? 0] ?? "none",
    timerMs: body[2] ? view.getUint32(52, true) : 0,
    // tcp_info's own counters; a TIME_WAIT or request socket has none.
    retransmits: info?.retransmits ?? 0,
    probes: info?.probes ?? 0,
    inode: view.getUint32(68, true),
    rtoMs: info ? Math.round(info.rtoMs) : 0,
  };
}

/** Asks the kernel for the socket `request` names: the answer's body, or undefined for none. */
function asker(socket: NetlinkSocket, request: Uint8Array): () => Uint8Array | undefined {
  return () =>
    socket.get(
      "sock_diag lookup",
      message(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, socket.nextSeq(), request),
    );
}

/**
 * Looks up the connection between `local` and `peer` in the namespace of `socket` (a
 * NETLINK_SOCK_DIAG socket): its row as /proc/net/tcp would show it, or undefined when the
 * namespace has no such connection. Each call asks the kernel again.
 */
export function connectionLookup(
  socket: NetlinkSocket,
  local: Endpoint,
  peer: Endpoint,
): () => SocketEntry | undefined {
  const ask = asker(socket, lookupRequest(local, peer));
  return () => {
    const answer = ask();
    return answer && entryOfAnswer(answer, local, peer);
  };
}

/**
 * Looks up the listening socket that takes connections to `local` in the namespace of
 * `socket`: its inode, or undefined while none listens. The lookup is the kernel's own for an
 * incoming SYN, so a wildcard or dual-stack listener counts, and one bound to another address
 * does not.
 */
export function listenerLookup(socket: NetlinkSocket, local: Endpoint): () => number | undefined {
  const anyPeer = { address: local.address.includes(":") ? "::" : "0.0.0.0", port: 0 };
  const ask = asker(socket, lookupRequest(local, anyPeer));
  return () => {
    const answer = ask();
    if (!answer || answer.length < MSG_BYTES || stateOf(answer) !== "LISTEN") return undefined;
    return new DataView(answer.buffer, answer.byteOffset, answer.byteLength).getUint32(68, true);
  };
}
