/**
 * Sockets made in a lab's network namespace by the runner itself. A network namespace belongs
 * to a thread, and a socket to the namespace it was made in, for life: so the calling thread
 * enters the namespace, makes the socket and returns, in one synchronous sequence of libc calls
 * (no await, nothing else runs on the thread meanwhile). Everything else (bind, connect, send)
 * then happens in the socket's own namespace from any thread.
 *
 * Needs CAP_SYS_ADMIN (root) for setns(2).
 *
 * @module
 */

import { check, libc } from "../libc/libc.ts";
import { inNetns } from "../libc/netns.ts";

/**
 * A socket of `family` and `type` made in the named network namespace (as `ip netns` names
 * it). Throws a SyscallError when the namespace cannot be entered or the socket made; the
 * calling thread is back in its own namespace either way.
 */
export function socketIn(netns: string, family: number, type: number): number {
  if (!/^[\w.-]+$/.test(netns)) throw new TypeError(`Invalid network namespace name: "${netns}"`);
  return inNetns(netns, () => check("socket", libc().socket(family, type, 0)));
}
