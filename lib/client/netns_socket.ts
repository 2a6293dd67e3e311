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

import {
  check,
  CLONE_NEWNET,
  errno,
  libc,
  O_CLOEXEC,
  O_RDONLY,
  SyscallError,
} from "../libc/libc.ts";

/** Where `ip netns` keeps a named namespace. */
const NETNS_DIR = "/run/netns";

let home: number | undefined;

function path(text: string): Uint8Array {
  return new TextEncoder().encode(text + "\0");
}

/** The namespace this thread started in, opened once (the thread's way back). */
function homeNamespace(): number {
  home ??= check(
    "open(/proc/thread-self/ns/net)",
    libc().open(path("/proc/thread-self/ns/net"), O_RDONLY | O_CLOEXEC),
  );
  return home;
}

/**
 * A socket of `family` and `type` made in the named network namespace (as `ip netns` names
 * it). Throws a SyscallError when the namespace cannot be entered or the socket made; the
 * calling thread is back in its own namespace either way.
 */
export function socketIn(netns: string, family: number, type: number): number {
  if (!/^[\w.-]+$/.test(netns)) throw new TypeError(`Invalid network namespace name: "${netns}"`);
  const back = homeNamespace();
  const target = check(
    `open(${NETNS_DIR}/${netns})`,
    libc().open(path(`${NETNS_DIR}/${netns}`), O_RDONLY | O_CLOEXEC),
  );
  try {
    check(`setns(${netns})`, libc().setns(target, CLONE_NEWNET));
    const fd = libc().socket(family, type, 0);
    const socketErrno = fd < 0 ? errno() : 0;
    if (libc().setns(back, CLONE_NEWNET) < 0) {
      // The thread would make every later socket in the lab: nothing can be trusted after that.
      throw new Error(
        `Cannot return from network namespace "${netns}": setns failed with errno ${errno()}`,
      );
    }
    if (fd < 0) throw new SyscallError("socket", socketErrno);
    return fd;
  } finally {
    libc().close(target);
  }
}
