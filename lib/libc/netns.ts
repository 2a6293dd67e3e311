/**
 * Network namespaces from the runner's own thread, without starting a process: a network
 * namespace is a property of a thread (setns(2)), and what the thread creates or opens while
 * it is in one (a netlink socket, a /proc/sys/net file) belongs to that namespace for good.
 * The thread goes back to its own namespace before the call returns, so nothing else the
 * runner does ever happens in a lab's namespace. Bodies are synchronous: no other JavaScript
 * runs on the thread in between.
 *
 * @module
 */

import {
  check,
  CLONE_NEWNET,
  cString,
  libc,
  MNT_DETACH,
  MS_BIND,
  O_CLOEXEC,
  O_RDONLY,
} from "./libc.ts";

/** Where `ip netns` names namespaces: a bind mount of the namespace's nsfs file. */
export const NETNS_DIR = "/run/netns";

let own: number | undefined;

function openNs(path: string): number {
  return check(`open("${path}")`, libc().open(cString(path), O_RDONLY | O_CLOEXEC));
}

/**
 * An fd of the network namespace `netns` (a name under /run/netns, or a path to a namespace
 * file), as setns(2) and IFLA_NET_NS_FD take it; the caller closes it.
 */
export function openNetns(netns: string): number {
  return openNs(netns.includes("/") ? netns : `${NETNS_DIR}/${netns}`);
}

/** The calling thread's own namespace, opened once: the one every body returns to. */
function ownNamespace(): number {
  own ??= openNs("/proc/thread-self/ns/net");
  return own;
}

/** The namespace a body runs in now, if one does. */
let inside: string | undefined;

/**
 * Runs `body` with the calling thread in `netns` (a name under /run/netns, or a path to a
 * namespace file), then returns the thread to its own namespace. Not nested: the return is
 * always to the runner's own namespace, so an outer body would go on outside its namespace.
 */
export function inNetns<T>(netns: string, body: () => T): T {
  if (inside !== undefined) {
    throw new Error(`Cannot enter namespace "${netns}" from inside "${inside}"`);
  }
  const home = ownNamespace();
  const fd = openNetns(netns);
  try {
    check(`setns("${netns}")`, libc().setns(fd, CLONE_NEWNET));
  } finally {
    libc().close(fd);
  }
  inside = netns;
  try {
    return body();
  } finally {
    inside = undefined;
    if (libc().setns(home, CLONE_NEWNET) !== 0) {
      // Every later socket of the runner would be made in the lab: nothing can go on.
      console.error(`clientdown: cannot return from namespace "${netns}" (setns failed)`);
      Deno.exit(70);
    }
  }
}

/**
 * Creates a named network namespace (as `ip netns add` does), from inside `parent` when given:
 * a namespace's own TCP hash size is read from the namespace that creates it.
 */
export function addNetns(name: string, parent?: string): void {
  const path = `${NETNS_DIR}/${name}`;
  Deno.mkdirSync(NETNS_DIR, { recursive: true });
  Deno.openSync(path, { createNew: true, write: true }).close();
  try {
    const create = () => {
      check("unshare(CLONE_NEWNET)", libc().unshare(CLONE_NEWNET));
      check(
        `mount(bind, "${path}")`,
        libc().mount(
          cString("/proc/thread-self/ns/net"),
          cString(path),
          cString("none"),
          BigInt(MS_BIND),
          null,
        ),
      );
    };
    // The body's unshare moves the thread into the new namespace; inNetns brings it back.
    inNetns(parent ? `${NETNS_DIR}/${parent}` : "/proc/thread-self/ns/net", create);
  } catch (error) {
    Deno.removeSync(path);
    throw error;
  }
}

/** The names of the named network namespaces. */
export function listNetns(): string[] {
  try {
    return [...Deno.readDirSync(NETNS_DIR)].map((entry) => entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/**
 * Deletes named network namespaces (as `ip netns del` does); one already gone is skipped. The
 * kernel frees a namespace once no process, socket or mount holds it.
 */
export function deleteNetns(names: readonly string[]): void {
  for (const name of names) {
    const path = `${NETNS_DIR}/${name}`;
    // Not mounted (a creation that failed half way) is fine: the file goes all the same, and
    // a mount still in place makes its removal fail (EBUSY), which is reported.
    libc().umount2(cString(path), MNT_DETACH);
    try {
      Deno.removeSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

/**
 * The pids of processes whose network namespace is one of `names` (as `ip netns pids`
 * finds them: by the namespace's inode), read from /proc in one pass.
 */
export function netnsPids(names: readonly string[]): number[] {
  const inodes = new Set<string>();
  for (const name of names) {
    try {
      inodes.add(`net:[${Deno.statSync(`${NETNS_DIR}/${name}`).ino}]`);
    } catch {
      // already gone
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (inodes.has(Deno.readLinkSync(`/proc/${entry.name}/ns/net`))) {
        pids.push(Number(entry.name));
      }
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  return pids;
}
