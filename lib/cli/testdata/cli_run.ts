/**
 * The CLI as a user runs it, for lifecycle tests: a process in a session and process group of
 * its own (as a terminal's foreground job), its output collected as it comes, and what a run
 * leaves on the host (namespaces, lab directories, records, processes) looked up by its run id.
 *
 * @module
 */

import { parseNetnsName, processStartTicks, runIdOf } from "../../lab/names.ts";
import { parseLabDirName } from "../../lab/names.ts";
import { run } from "../../process/spawn.ts";
import { REPO_ROOT } from "../repo_paths.ts";

/** A process, by pid and start time. */
export interface Proc {
  /** Its pid. */
  pid: number;
  /** Its start time in clock ticks since boot. */
  ticks: number;
}

/** A command started in a process group of its own; its output is collected as it comes. */
export class CliRun {
  /** The process. */
  readonly child: Deno.ChildProcess;
  /** Its pid, also its process group's id. */
  readonly pid: number;
  /** What it printed so far. */
  stdout = "";
  /** What it printed so far. */
  stderr = "";
  /** Its status, once exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** When it exited (performance.now()). */
  exitedAt = 0;
  readonly #output: Promise<void>;

  /** Starts `argv` in the repository, with `env` added. */
  constructor(argv: string[], env: Record<string, string> = {}) {
    const [program = "", ...args] = argv;
    this.child = new Deno.Command(program === "deno" ? Deno.execPath() : program, {
      args,
      cwd: REPO_ROOT,
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true, // its own session and process group, like a terminal's job
    }).spawn();
    this.pid = this.child.pid;
    const collect = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) this[into] += text;
    };
    this.#output = Promise.all([
      collect(this.child.stdout, "stdout"),
      collect(this.child.stderr, "stderr"),
    ]).then(() => {});
    this.status = this.child.status.then((s) => {
      this.exitedAt = performance.now();
      return s;
    });
  }

  /** Waits until `test` holds (polled every 100 ms), at most `ms`; throws with the output. */
  async until(what: string, test: () => boolean | Promise<boolean>, ms: number): Promise<void> {
    const end = performance.now() + ms;
    while (!(await test())) {
      if (performance.now() > end || this.exitedAt) {
        throw new Error(
          `Gave up waiting for ${what} (exited: ${this.exitedAt > 0}):\n${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Its status and all its output, once it has exited. */
  async done(): Promise<Deno.CommandStatus> {
    const status = await this.status;
    await this.#output;
    return status;
  }
}

/** Every descendant of `pid` now, with its start time. */
export function descendants(pid: number): Proc[] {
  const parent = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(entry.name), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const found: Proc[] = [];
  const walk = (p: number) => {
    for (const [child, ppid] of parent) {
      if (ppid !== p) continue;
      const ticks = processStartTicks(child);
      if (ticks !== undefined) found.push({ pid: child, ticks });
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/** The command line of a process, or "" when it is gone. */
export function cmdline(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** The processes of `procs` still running (same pid, same start time, not a zombie). */
export function stillRunning(procs: readonly Proc[]): Proc[] {
  const unique = new Map(procs.map((p) => [`${p.pid}/${p.ticks}`, p]));
  return [...unique.values()].filter((p) =>
    processStartTicks(p.pid) === p.ticks && !isZombie(p.pid)
  );
}

// A process that has ended but whose parent has not collected it (or that a parent which
// itself died handed to an init that does not reap): nothing runs.
function isZombie(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** The run id of the clientdown process `pid` (its lab names carry it). */
export function runOf(pid: number): string {
  const id = runIdOf(pid);
  if (!id) throw new Error(`Process "${pid}" is gone`);
  return id;
}

/** The namespaces of run `id` now. */
export async function namespacesOf(id: string): Promise<string[]> {
  const listed = await run(["ip", "netns", "list"]);
  return listed.stdout.split("\n").map((l) => l.split(" ")[0] ?? "").filter((n) =>
    parseNetnsName(n)?.run === id
  );
}

/** The processes inside the namespaces of run `id` now. */
export async function processesInNamespacesOf(id: string): Promise<Proc[]> {
  const found: Proc[] = [];
  for (const ns of await namespacesOf(id)) {
    const pids = await run(["ip", "netns", "pids", ns], { accept: [1, 255] });
    for (const pid of pids.stdout.split("\n").filter(Boolean).map(Number)) {
      const ticks = processStartTicks(pid);
      if (ticks !== undefined) found.push({ pid, ticks });
    }
  }
  return found;
}

/** Lab directories of run `id` in the state directory `state`. */
export function labDirsOf(state: string, id: string): string[] {
  try {
    return [...Deno.readDirSync(`${state}/labs`)].map((e) => e.name).filter((n) =>
      parseLabDirName(n)?.run === id
    );
  } catch {
    return [];
  }
}

/** Whatever of run `id` is left on the host: empty lists when nothing is. */
export async function tracesOf(id: string, state: string, procs: readonly Proc[]) {
  let records: string[] = [];
  try {
    records = [...Deno.readDirSync(`${state}/owners`)].map((e) => e.name);
  } catch {
    // no records at all
  }
  return {
    namespaces: await namespacesOf(id),
    labDirs: labDirsOf(state, id),
    records,
    processes: stillRunning(procs).map((p) => `${p.pid} ${cmdline(p.pid)}`),
  };
}

/** What tracesOf returns when nothing is left. */
export const NOTHING = { namespaces: [], labDirs: [], records: [], processes: [] };
