/**
 * Owner records: which process owns a run's labs. A record holds the pid and the process's
 * start time (so a reused pid is not mistaken for the owner); the sweep removes the labs of
 * runs whose owner is gone.
 *
 * @module
 */

import { ownersDir } from "./state_dir.ts";

/** The pid and start time (clock ticks since boot) of a lab's owner. */
export interface OwnerRecord {
  pid: number;
  startTicks: number;
}

/** The start time of a process in clock ticks since boot, or undefined when it is gone. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces; fields after it are space separated.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]); // field 22 overall
  } catch {
    return undefined;
  }
}

/** Records this process as the owner of `run`; idempotent. */
export function recordOwner(run: string): void {
  Deno.mkdirSync(ownersDir(), { recursive: true });
  const record: OwnerRecord = { pid: Deno.pid, startTicks: processStartTicks(Deno.pid) ?? 0 };
  Deno.writeTextFileSync(`${ownersDir()}/${run}.json`, JSON.stringify(record));
}

/** Removes the owner record of `run`. */
export function forgetOwner(run: string): void {
  try {
    Deno.removeSync(`${ownersDir()}/${run}.json`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Whether the recorded owner of `run` is still the same running process. */
export function ownerAlive(run: string): boolean {
  let record: OwnerRecord;
  try {
    record = JSON.parse(Deno.readTextFileSync(`${ownersDir()}/${run}.json`));
  } catch {
    return false;
  }
  return processStartTicks(record.pid) === record.startTicks;
}
