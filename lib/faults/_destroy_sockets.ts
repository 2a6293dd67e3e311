/**
 * Socket destroy in the client host (the kernel's SOCK_DESTROY, what `ss -K` asks for): the
 * client's TCP sockets to the server die at once, and the kernel sends an RST for each. Done
 * through sock_diag on a netlink socket the lab opened in the client host: the sockets are
 * listed and destroyed within the caller's own system calls, with no process started.
 *
 * @module
 */

import { type DualAddress, SERVER } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { AF_INET, AF_INET6, IPPROTO_TCP } from "../libc/libc.ts";
import { diagAddress, SOCK_DIAG_BY_FAMILY } from "../libc/sock_diag.ts";
import {
  message,
  NETLINK_SOCK_DIAG,
  NetlinkError,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
} from "../libc/netlink.ts";

/** Which of the client's connections to destroy. */
export interface ConnectionSelector {
  client: DualAddress;
  /** The server's port; any when absent. */
  serverPort?: number;
  /** The client's own port; any when absent. */
  localPort?: number;
}

/** The selection in words, for an error that nothing matched. */
export function describeSelection(selector: ConnectionSelector): string {
  const { client, serverPort, localPort } = selector;
  return [
    `from ${client.v4} or ${client.v6}${localPort === undefined ? "" : ` port ${localPort}`}`,
    `to ${SERVER.v4} or ${SERVER.v6}${serverPort === undefined ? "" : ` port ${serverPort}`}`,
  ].join(" ");
}

// linux/sock_diag.h, linux/inet_diag.h
const SOCK_DESTROY = 21;
const ESTABLISHED_TO_CLOSING = [1, 2, 4, 5, 8, 9, 11]; // as `ss` selects: not SYN_RECV, TIME_WAIT, CLOSE, LISTEN
const STATES = ESTABLISHED_TO_CLOSING.reduce((mask, state) => mask | (1 << state), 0);
/** inet_diag_sockid: ports, addresses, interface, cookie; 48 bytes. */
const SOCKID = 48;

/** inet_diag_req_v2 for `family`, with the socket id `id` (zero: any). */
function request(family: number, id: Uint8Array = new Uint8Array(SOCKID)): Uint8Array {
  const req = new Uint8Array(8 + SOCKID);
  const view = new DataView(req.buffer);
  req[0] = family;
  req[1] = IPPROTO_TCP;
  view.setUint32(4, STATES, true);
  req.set(id, 8);
  return req;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.every((x, i) => x === b[i]);

/**
 * Destroys the selected sockets in the lab's client host; returns how many the kernel
 * destroyed (one that ended meanwhile is not counted).
 */
export function destroySockets(lab: Lab, selector: ConnectionSelector): number {
  const socket = lab.netlink("client", NETLINK_SOCK_DIAG);
  let destroyed = 0;
  for (const [family, key] of [[AF_INET, "v4"], [AF_INET6, "v6"]] as const) {
    const client = diagAddress(selector.client[key]);
    const server = diagAddress(SERVER[key]);
    const listed = socket.dump(
      "sock_diag dump",
      message(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, socket.nextSeq(), request(family)),
    );
    for (const body of listed) {
      // inet_diag_msg: family, state, timer, retrans, then the socket id.
      const id = body.slice(4, 4 + SOCKID);
      const view = new DataView(id.buffer);
      const [sport, dport] = [view.getUint16(0, false), view.getUint16(2, false)];
      if (
        !sameBytes(id.subarray(4, 20), client) || !sameBytes(id.subarray(20, 36), server) ||
        (selector.localPort !== undefined && sport !== selector.localPort) ||
        (selector.serverPort !== undefined && dport !== selector.serverPort)
      ) continue;
      const seq = socket.nextSeq();
      try {
        socket.request(
          "sock_diag destroy",
          message(SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, seq, request(family, id)),
          seq,
        );
        destroyed++;
      } catch (error) {
        // Ended between the listing and now: nothing left to destroy.
        if (!(error instanceof NetlinkError && error.errno === 2)) throw error;
      }
    }
  }
  return destroyed;
}
