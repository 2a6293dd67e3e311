/**
 * A process's `/proc/<pid>/stat`, read in one place. Its command name (field 2) is in
 * parentheses and may itself hold spaces and parentheses, so the other fields are those after
 * the last ")".
 *
 * @module
 */

/** The fields of /proc/<pid>/stat that clientdown uses. */
export interface ProcStat {
  /** The command name (field 2). */
  name: string;
  /** The one-letter state: R, S, D, T, t, Z, X ... (field 3). */
  state: string;
  /** The parent's pid (field 4). */
  ppid: number;
  /** The session id (field 6). */
  session: number;
  /** The start time in clock ticks since boot (field 22): with the pid, names one process. */
  startTicks: number;
}

/**
 * Reads /proc/<pid>/stat, or undefined when the process is gone (or was never there).
 *
 * @example
 * ```ts
 * import { readProcStat } from "./proc_stat.ts";
 * console.log(readProcStat(Deno.pid)?.state); // "R"
 * ```
 */
export function readProcStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(")");
  const fields = stat.slice(close + 2).split(" ");
  return {
    name: stat.slice(stat.indexOf("(") + 1, close),
    state: fields[0] ?? "",
    ppid: Number(fields[1]),
    session: Number(fields[3]),
    startTicks: Number(fields[19]),
  };
}

/** Whether process `pid` runs (it exists and has not exited: neither a zombie nor dead). */
export function processAlive(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== "Z" && state !== "X";
}
