/**
 * A run's base namespace. The kernel's established-connection hash is shared by every
 * namespace unless one is created with its own (Linux ≥ 6.1, `tcp_child_ehash_entries`, read
 * from the namespace of the thread that creates the child). Reading /proc/<pid>/net/tcp walks
 * that whole hash, which makes polling many servers' socket tables expensive. So lab
 * namespaces are created from inside this base namespace, where that sysctl is set: the
 * host's own sysctl is never touched. One base per run, removed with the run's last lab.
 *
 * @module
 */

import { addNetns, deleteNetns, inNetns } from "../libc/netns.ts";
import { netnsName, runId } from "./names.ts";

/** Hash buckets of each lab namespace's own table: plenty for a churn of thousands. */
const EHASH_ENTRIES = 4096;

let base: string | undefined;
let users = 0;

function makeBase(): string | undefined {
  const name = netnsName(runId(), 0, "bas");
  addNetns(name);
  try {
    inNetns(name, () => {
      Deno.writeTextFileSync("/proc/sys/net/ipv4/tcp_child_ehash_entries", `${EHASH_ENTRIES}`);
    });
    return name;
  } catch {
    // An older kernel: lab namespaces share the global hash, which works, only slower.
    deleteNetns([name]);
    return undefined;
  }
}

/**
 * The namespace to create lab namespaces from, or none when the kernel has no per-namespace
 * hash. Pair every call with `releaseBase()`.
 */
export function acquireBase(): string | undefined {
  users++;
  base ??= makeBase();
  return base;
}

/** Removes the base once no lab of this run uses it. */
export function releaseBase(): void {
  users--;
  if (users > 0 || base === undefined) return;
  deleteNetns([base]);
  base = undefined;
}

/**
 * Removes the base whatever its count of users: for the end of a run, once every lab is
 * gone. Creation and removal are synchronous (lib/libc/netns.ts), so none is ever under way.
 */
export function dropBase(): void {
  if (base === undefined) return;
  deleteNetns([base]);
  base = undefined;
  users = 0;
}
