/**
 * Interrupts of a run: SIGINT, SIGTERM and SIGHUP abort the run's AbortSignal (the runner
 * then starts no new scenario and stops the running ones, which tear their labs down), and
 * the command exits as a shell reports a death by that signal: 130, 143, 129.
 *
 * A run started through `npx` also stops when a parent process ends: npx (npm exec) dies of a
 * SIGTERM without passing it on, so a cancelled CI job would leave `deno task` and the run
 * going on, orphaned. So the run watches its ancestors in its own session, and the end of one
 * counts as a hang-up (SIGHUP: "death of the controlling process"). A run started with SIGHUP
 * ignored (`nohup`) does neither, and one started in a session of its own (`setsid`) has no
 * ancestor to watch: both were asked to outlive their parent.
 *
 * @module
 */

import { readProcStat } from "../process/proc_stat.ts";

/** The signals that stop a run, with the exit code a shell reports for a death by each. */
export const SIGNAL_EXIT = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

/** A signal that stops a run. */
export type StopSignal = keyof typeof SIGNAL_EXIT;

const SIGNALS = Object.keys(SIGNAL_EXIT) as StopSignal[];

/** A process, by pid and start time (a reused pid is another process). */
export interface ProcessId {
  /** Its pid. */
  pid: number;
  /** Its start time, in clock ticks since boot. */
  startTicks: number;
  /** Its command name. */
  name: string;
}

/**
 * The ancestors of this process in its own session (a terminal's, or the one a CI step or
 * `setsid` started), nearest first: those whose end means the run was given up.
 */
export function ancestors(pid: number = Deno.pid): ProcessId[] {
  const chain: ProcessId[] = [];
  const own = readProcStat(pid);
  let next = own?.ppid ?? 0;
  while (next > 1 && chain.length < 64) {
    const stat = readProcStat(next);
    if (!stat || stat.session !== own?.session) break;
    chain.push({ pid: next, startTicks: stat.startTicks, name: stat.name });
    next = stat.ppid;
  }
  return chain;
}

/** Whether this process was started with SIGHUP ignored (as `nohup` does). */
export function hangupIgnored(): boolean {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? "0";
    return (BigInt(`0x${mask}`) & 1n) === 1n; // bit 0 is signal 1, SIGHUP
  } catch {
    return false;
  }
}

/** How an Interrupt reports and what it watches. */
export interface InterruptOptions {
  /** Writes one line for the user (standard error). */
  log: (line: string) => void;
  /** Treat the end of an ancestor process as SIGHUP (default: unless SIGHUP is ignored). */
  watchParents?: boolean;
  /** How often the ancestors are looked at, in ms (default 250). */
  pollMs?: number;
  /** What stopping does, said after "Interrupted by <signal>: " (default: a run's). */
  stopping?: string;
}

/** Signals repeated this soon after the first are the same interrupt (npx passes SIGINT on). */
const ECHO_MS = 300;

/**
 * Turns the stop signals into an aborted AbortSignal for the run's duration. Install it when
 * the run starts and dispose of it when the run has ended and cleaned up.
 *
 * @example
 * ```ts ignore
 * import { Interrupt } from "./interrupt.ts";
 * using interrupt = new Interrupt({ log: console.error }).install();
 * await certifyTarget(target, scenarios, { deadlineMs, concurrency, signal: interrupt.signal });
 * if (interrupt.received) Deno.exit(interrupt.exitCode);
 * ```
 */
export class Interrupt {
  readonly #controller = new AbortController();
  readonly #log: (line: string) => void;
  readonly #watchParents: boolean;
  readonly #pollMs: number;
  readonly #stopping: string;
  #received: StopSignal | undefined;
  #at = 0;
  #listeners: [StopSignal, () => void][] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Nothing is listened to until `install()`. */
  constructor(options: InterruptOptions) {
    this.#log = options.log;
    this.#watchParents = options.watchParents ?? !hangupIgnored();
    this.#pollMs = options.pollMs ?? 250;
    this.#stopping = options.stopping ??
      "no new scenario starts; the running ones stop and their labs are removed";
  }

  /** Aborted with the signal's name as its reason once a stop signal arrived. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The signal that stopped the run, if one did. */
  get received(): StopSignal | undefined {
    return this.#received;
  }

  /** The exit code for the signal received (128 + its number), or undefined. */
  get exitCode(): number | undefined {
    return this.#received && SIGNAL_EXIT[this.#received];
  }

  /** Listens for the stop signals and, unless told not to, watches the ancestors. */
  install(): this {
    for (const signal of SIGNALS) {
      if (signal === "SIGHUP" && !this.#watchParents) continue; // nohup: keep its choice
      const listener = () => this.trigger(signal);
      Deno.addSignalListener(signal, listener);
      this.#listeners.push([signal, listener]);
    }
    if (this.#watchParents) {
      const watched = ancestors();
      this.#timer = setInterval(() => {
        const gone = watched.find((p) => readProcStat(p.pid)?.startTicks !== p.startTicks);
        if (gone) {
          clearInterval(this.#timer);
          this.trigger("SIGHUP", `parent process "${gone.name}" ("${gone.pid}") ended`);
        }
      }, this.#pollMs);
      Deno.unrefTimer(this.#timer);
    }
    return this;
  }

  /** Stops the run as if `signal` had arrived; `why` replaces "<signal>" in the message. */
  trigger(signal: StopSignal, why?: string): void {
    const now = performance.now();
    if (this.#received === undefined) {
      this.#received = signal;
      this.#at = now;
      this.#log(`Interrupted by ${why ? `${why} (as ${signal})` : signal}: ${this.#stopping}`);
      this.#controller.abort(signal);
    } else if (now - this.#at > ECHO_MS) {
      this.#log(
        `Still cleaning up after ${this.#received}: removing the run's labs and processes, ` +
          `wait for it (SIGKILL would leave them to the next command's sweep)`,
      );
    }
  }

  /** Removes the listeners and the watch. */
  dispose(): void {
    for (const [signal, listener] of this.#listeners) Deno.removeSignalListener(signal, listener);
    this.#listeners = [];
    clearInterval(this.#timer);
  }

  /** For `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * A command stopped by a signal outside a run (trying a target's start, `check`), once the
 * lab it had made was removed; `exitCode` is the signal's (130, …).
 */
export class InterruptedBeforeRun extends Error {
  /** The exit code of the signal received. */
  readonly exitCode: number;
  /** `signal` stopped the command. */
  constructor(signal: StopSignal) {
    super(`Interrupted by ${signal}: its lab was removed; nothing of it is left`);
    this.name = "InterruptedBeforeRun";
    this.exitCode = SIGNAL_EXIT[signal];
  }
}

/**
 * Runs `work`, which makes a lab and removes it in its own `finally`, with the stop signals
 * held until it ends; then throws InterruptedBeforeRun when one arrived.
 */
export async function whileHoldingSignals<T>(
  log: (line: string) => void,
  work: (interrupt: Interrupt) => Promise<T>,
): Promise<T> {
  const interrupt = new Interrupt({ log, stopping: "its lab is removed first" }).install();
  let result: T;
  try {
    result = await work(interrupt);
  } finally {
    interrupt.dispose();
  }
  if (interrupt.received) throw new InterruptedBeforeRun(interrupt.received);
  return result;
}
