/**
 * Whether a run is live: its owner process, named by the run id itself (see names.ts), still
 * runs with the same start time. Nothing is recorded anywhere, so every command sees the same
 * answer whatever `CLIENTDOWN_STATE` it uses, and a run can never be taken for dead while its
 * owner runs (before it has written anything, say).
 *
 * @module
 */

import { processStartTicks, runOwner } from "./names.ts";

export { processStartTicks } from "./names.ts";

/**
 * Whether the owner of `run` is still the same running process. A run id of an older version
 * (pid only) counts as live while any process has that pid: a sweep must never remove a live
 * run's labs, and keeping a dead run's until its pid is free again is the safe error.
 */
export function runAlive(run: string): boolean {
  const owner = runOwner(run);
  if (!owner || !(owner.pid > 0)) return false;
  const ticks = processStartTicks(owner.pid);
  if (owner.startTicks === undefined) return ticks !== undefined;
  return ticks === owner.startTicks;
}
