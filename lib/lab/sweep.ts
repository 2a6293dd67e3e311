/**
 * The sweep at start: removes labs whose owner process no longer exists (a runner killed
 * with SIGKILL cannot tear down its own labs), along with their files and owner records.
 *
 * @module
 */

import { run } from "../process/spawn.ts";
import { removeNamespaces } from "./lab.ts";
import { parseNetnsName } from "./names.ts";
import { forgetOwner, ownerAlive } from "./owner.ts";
import { ownersDir, stateDir } from "./state_dir.ts";

/** What a sweep removed. */
export interface SweepResult {
  namespaces: string[];
  runs: string[];
}

/** Removes every lab of a run whose owner is gone; leaves live runs alone. */
export async function sweepStaleLabs(): Promise<SweepResult> {
  const listed = await run(["ip", "netns", "list"]);
  const stale = new Map<string, string[]>();
  for (const line of listed.stdout.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const parsed = parseNetnsName(name);
    if (!parsed || ownerAlive(parsed.run)) continue;
    stale.set(parsed.run, [...(stale.get(parsed.run) ?? []), name]);
  }
  for (const run of recordedRuns()) {
    if (!ownerAlive(run) && !stale.has(run)) stale.set(run, []);
  }
  const namespaces = [...stale.values()].flat();
  await removeNamespaces(namespaces);
  for (const run of stale.keys()) {
    forgetOwner(run);
    removeLabDirs(run);
  }
  return { namespaces, runs: [...stale.keys()] };
}

function recordedRuns(): string[] {
  try {
    return [...Deno.readDirSync(ownersDir())]
      .filter((e) => e.name.endsWith(".json"))
      .map((e) => e.name.slice(0, -".json".length));
  } catch {
    return [];
  }
}

function removeLabDirs(run: string): void {
  try {
    for (const entry of Deno.readDirSync(`${stateDir()}/labs`)) {
      if (entry.name.startsWith(`${run}-`)) {
        Deno.removeSync(`${stateDir()}/labs/${entry.name}`, { recursive: true });
      }
    }
  } catch {
    // no labs directory yet
  }
}
