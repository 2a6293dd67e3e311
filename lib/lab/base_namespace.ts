/**
 * A run's base namespace. The kernel's established-connection hash is shared by every
 * namespace unless one is created with its own (Linux ≥ 6.1, `tcp_child_ehash_entries`, read
 * from the namespace of the process that creates the child). Reading /proc/<pid>/net/tcp walks
 * that whole hash, which makes polling many servers' socket tables expensive. So lab
 * namespaces are created from inside this base namespace, where that sysctl is set: the
 * host's own sysctl is never touched. One base per run, removed with the run's last lab.
 *
 * @module
 */

import { run } from "../process/spawn.ts";
import { netnsName, runId } from "./names.ts";

/** Hash buckets of each lab namespace's own table: plenty for a churn of thousands. */
const EHASH_ENTRIES = 4096;

let base: string | undefined;
let users = 0;
let chain: Promise<unknown> = Promise.resolve();

// Creation and removal of the base never overlap.
function serial<T>(section: () => Promise<T>): Promise<T> {
  const next = chain.then(section);
  chain = next.catch(() => {});
  return next;
}

async function makeBase(): Promise<string | undefined> {
  const name = netnsName(runId(), 0, "bas");
  await run(["ip", "netns", "add", name]);
  const set = await run(
    ["sh", "-c", `echo ${EHASH_ENTRIES} > /proc/sys/net/ipv4/tcp_child_ehash_entries`],
    { netns: name, accept: [1, 2] },
  );
  if (set.code === 0) return name;
  // An older kernel: lab namespaces share the global hash, which works, only slower.
  await run(["ip", "netns", "del", name], { accept: [1, 255] });
  return undefined;
}

/**
 * The namespace to create lab namespaces from, or none when the kernel has no per-namespace
 * hash. Pair every call with `releaseBase()`.
 */
export function acquireBase(): Promise<string | undefined> {
  return serial(async () => {
    users++;
    base ??= await makeBase();
    return base;
  });
}

/** Removes the base once no lab of this run uses it. */
export function releaseBase(): Promise<void> {
  return serial(async () => {
    users--;
    if (users > 0 || base === undefined) return;
    await run(["ip", "netns", "del", base], { accept: [1, 255] });
    base = undefined;
  });
}

/**
 * Removes the base whatever its count of users: for the end of a run, once every lab is
 * gone. Waits for a creation or removal under way.
 */
export function dropBase(): Promise<void> {
  return serial(async () => {
    if (base === undefined) return;
    await run(["ip", "netns", "del", base], { accept: [1, 255] });
    base = undefined;
    users = 0;
  });
}
