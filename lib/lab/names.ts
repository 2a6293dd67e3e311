/**
 * Names of labs: `cd-<run>-<n>-{cli,rtr,srv}`. The run id names its owner process:
 * `<pid>.<start>`, the pid and the process's start time (clock ticks since boot), both in
 * base 36. A lab is thus recognisable as a run's, and the run as live or dead, from its name
 * alone: no record in a state directory (which another command may not share) is needed, and
 * a reused pid is not mistaken for the owner.
 *
 * Runs of earlier versions were named `<pid><2 random characters>`; such names still parse,
 * with their pid only (see owner.ts for how their liveness is judged).
 *
 * @module
 */

import { readProcStat } from "../process/proc_stat.ts";

/**
 * The three hosts of a lab; the scratch namespace of the capability probe; and a run's base
 * namespace, from which lab namespaces are created (see base_namespace.ts).
 */
export type HostRole = "cli" | "rtr" | "srv" | "prb" | "bas";

const NAME = /^cd-([0-9a-z]+(?:\.[0-9a-z]+)?)-(\d+)-(cli|rtr|srv|prb|bas)$/;
const RUN = /^([0-9a-z]+)\.([0-9a-z]+)$/;
const LEGACY_RUN = /^([0-9a-z]+)[0-9a-z]{2}$/;

/** The owner process a run id names; `startTicks` is missing for a run of an older version. */
export interface RunOwner {
  /** The owner's pid. */
  pid: number;
  /** Its start time in clock ticks since boot. */
  startTicks?: number;
}

let currentRun: string | undefined;

/** The start time of a process in clock ticks since boot, or undefined when it is gone. */
export function processStartTicks(pid: number): number | undefined {
  return readProcStat(pid)?.startTicks;
}

/** The run id of the process `pid` (default: this one), or undefined when it is gone. */
export function runIdOf(pid: number = Deno.pid): string | undefined {
  const ticks = processStartTicks(pid);
  return ticks === undefined ? undefined : `${pid.toString(36)}.${ticks.toString(36)}`;
}

/** This process's run id, made once. */
export function runId(): string {
  currentRun ??= runIdOf() ?? `${Deno.pid.toString(36)}.0`;
  return currentRun;
}

/** The owner a run id names, or undefined for a string that is no run id. */
export function runOwner(run: string): RunOwner | undefined {
  const match = RUN.exec(run);
  if (match) return { pid: parseInt(match[1] ?? "", 36), startTicks: parseInt(match[2] ?? "", 36) };
  const legacy = LEGACY_RUN.exec(run);
  return legacy ? { pid: parseInt(legacy[1] ?? "", 36) } : undefined;
}

/** The namespace name of one host of a lab. */
export function netnsName(run: string, index: number, role: HostRole): string {
  return `cd-${run}-${index}-${role}`;
}

/** Splits a namespace name made by netnsName, or undefined for any other name. */
export function parseNetnsName(
  name: string,
): { run: string; index: number; role: HostRole } | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  return { run: match[1] ?? "", index: Number(match[2]), role: match[3] as HostRole };
}

/** Splits a lab directory's name (`<run>-<n>`, see state_dir.ts), or undefined. */
export function parseLabDirName(name: string): { run: string; index: number } | undefined {
  const at = name.lastIndexOf("-");
  const run = name.slice(0, at);
  const index = name.slice(at + 1);
  if (at < 1 || !/^\d+$/.test(index) || !runOwner(run)) return undefined;
  return { run, index: Number(index) };
}
