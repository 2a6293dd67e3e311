/**
 * The sweep at start: removes every trace of runs whose owner process is gone (a runner
 * killed with SIGKILL cannot tear down its own labs): their namespaces with the processes
 * inside, their lab directories (even with no namespace left), and owner records of older
 * versions.
 *
 * The rule: a namespace or lab directory belongs to the run its name names, and a run is live
 * while its owner process (pid and start time, both in the run id) runs; see names.ts and
 * owner.ts. No record is consulted, so a sweep with any `CLIENTDOWN_STATE` never touches a
 * live run. Lab directories are swept in this command's state directory only: another state
 * directory's are swept by the next command that uses it.
 *
 * @module
 */

import { listNetns } from "../libc/netns.ts";
import { removeNamespaces } from "./host_setup.ts";
import { parseNetnsName, processStartTicks } from "./names.ts";
import { runAlive } from "./owner.ts";
import { ownersDir, removeLabDirs, runsWithLabDirs } from "./state_dir.ts";

/** What a sweep removed. */
export interface SweepResult {
  /** The namespaces removed. */
  namespaces: string[];
  /** The dead runs whose traces were removed. */
  runs: string[];
}

/** Removes every trace of a run whose owner is gone; leaves live runs alone. */
export function sweepStaleLabs(): SweepResult {
  const stale = new Map<string, string[]>();
  for (const name of listNetns()) {
    const parsed = parseNetnsName(name);
    if (!parsed || runAlive(parsed.run)) continue;
    stale.set(parsed.run, [...(stale.get(parsed.run) ?? []), name]);
  }
  for (const run of runsWithLabDirs()) {
    if (!runAlive(run) && !stale.has(run)) stale.set(run, []);
  }
  const namespaces = [...stale.values()].flat();
  removeNamespaces(namespaces);
  for (const run of stale.keys()) removeLabDirs(run);
  removeDeadOwnerRecords();
  return { namespaces, runs: [...stale.keys()] };
}

// Records of older versions, `owners/<run>.json` holding { pid, startTicks }.
function removeDeadOwnerRecords(): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(ownersDir())];
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = `${ownersDir()}/${entry.name}`;
    try {
      const record = JSON.parse(Deno.readTextFileSync(path));
      if (processStartTicks(record.pid) === record.startTicks) continue;
    } catch {
      // unreadable: not a live owner's
    }
    Deno.removeSync(path, { recursive: true });
  }
  try {
    Deno.removeSync(ownersDir()); // only when empty
  } catch {
    // not empty, or gone
  }
}
