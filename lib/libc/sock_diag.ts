/**
 * What sock_diag requests share (linux/sock_diag.h, linux/inet_diag.h): the message type that
 * asks about sockets of one family, and how an address is written in a socket id.
 *
 * @module
 */

import { addressBytes } from "./libc.ts";

/** The netlink message type of a request about sockets of one family. */
export const SOCK_DIAG_BY_FAMILY = 20;

/** The 16 bytes of an address as a socket id holds it (IPv4 in the first 4). */
export function diagAddress(address: string): Uint8Array {
  const out = new Uint8Array(16);
  out.set(addressBytes(address));
  return out;
}
