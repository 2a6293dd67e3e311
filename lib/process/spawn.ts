/**
 * The one place clientdown starts processes. Every long-running child is tracked and ended
 * by its pid, never by name; a non-zero exit of a command is an error unless the caller
 * lists the exit codes it accepts.
 *
 * @module
 */

import { NETNS_DIR } from "../libc/netns.ts";

/** Where and how a process runs. */
export interface SpawnOptions {
  /**
   * Run inside this network namespace (via `nsenter --net`: the namespace only, unlike `ip
   * netns exec`, which also gives each process a mount namespace of its own with /sys
   * remounted, and costs about 20 ms more per process on a busy machine).
   */
  netns?: string;
  /** A session of its own, as a process in a lab always gets (see launch). */
  detached?: boolean;
  /** Its working directory. */
  cwd?: string;
  /** Variables added to its environment. */
  env?: Record<string, string>;
  /** Its standard input (default "null"). */
  stdin?: "piped" | "null";
  /** Its standard output (default "null"). */
  stdout?: "piped" | "null" | "inherit";
  /** Its standard error (default "null"). */
  stderr?: "piped" | "null" | "inherit";
}

/** A command that exited with a code the caller did not accept. */
export class CommandError extends Error {
  /** The exit code. */
  readonly code: number;
  /** What the command printed on stderr. */
  readonly stderr: string;
  /** `argv` ran and exited with `code`, printing `stderr`. */
  constructor(argv: readonly string[], code: number, stderr: string) {
    super(
      `Command failed with exit code ${code}: ${argv.join(" ")}${
        stderr ? `: ${stderr.trim()}` : ""
      }`,
    );
    this.name = "CommandError";
    this.code = code;
    this.stderr = stderr;
  }
}

const live = new Map<number, Child>();

function argvFor(argv: readonly string[], netns?: string): string[] {
  return netns ? ["nsenter", `--net=${NETNS_DIR}/${netns}`, "--", ...argv] : [...argv];
}

// Deno children would look up its update server from inside the lab: traffic the lab must
// never carry, however unroutable.
const QUIET = { DENO_NO_UPDATE_CHECK: "1" };

// Processes in a lab, and every command run to completion, get a session of their own: a
// terminal's Ctrl-C reaches the runner's process group only, and the runner ends them by pid
// as it stops. A server the terminal's signal had killed would be judged as a server that
// died, and a cleanup command (`ip netns pids`) killed by a second Ctrl-C would fail the
// cleanup itself.
//
// The session comes from `setsid` (util-linux), which calls setsid(2) and execs the command in
// the same process (it forks only when it leads a process group, which a fresh child never
// does): the pid stays the command's. Deno's own `detached` runs setsid(2) in a pre-exec hook,
// and a hook makes Rust fork the runner instead of posix_spawn'ing (vfork) the child: the
// runner's thread then copies its page tables, 24 ms with 200 MB of heap, for every process.
function launch(
  argv: readonly string[],
  options: Pick<SpawnOptions, "cwd" | "env" | "netns" | "detached">,
  ownSession = options.netns !== undefined || options.detached === true,
): [string, Omit<Deno.CommandOptions, "stdin" | "stdout" | "stderr">] {
  const [program = "", ...args] = ownSession ? ["setsid", ...argv] : argv;
  return [program, {
    args,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { ...QUIET, ...options.env },
  }];
}

/** A tracked child process. */
export class Child {
  readonly process: Deno.ChildProcess;
  readonly pid: number;
  readonly argv: readonly string[];
  /** Resolves once the process has exited (never rejects). */
  readonly status: Promise<Deno.CommandStatus>;
  #exited: Deno.CommandStatus | undefined;

  constructor(argv: readonly string[], options: SpawnOptions) {
    this.argv = argvFor(argv, options.netns);
    const [program, placed] = launch(this.argv, options);
    this.process = new Deno.Command(program, {
      ...placed,
      stdin: options.stdin ?? "null",
      stdout: options.stdout ?? "null",
      stderr: options.stderr ?? "null",
    }).spawn();
    this.pid = this.process.pid;
    live.set(this.pid, this);
    this.status = this.process.status.then((status) => {
      this.#exited = status;
      live.delete(this.pid);
      return status;
    });
  }

  /** The exit status once the process has exited, else undefined. */
  get exited(): Deno.CommandStatus | undefined {
    return this.#exited;
  }

  /** Sends a signal by pid; a no-op once the process has exited. */
  signal(signal: Deno.Signal): void {
    if (this.#exited) return;
    try {
      this.process.kill(signal);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // already exited
    }
  }

  /** Ends the process: `signal` (SIGTERM), then SIGKILL after `graceMs`; resolves with its status. */
  async end(graceMs = 1000, signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (this.#exited) return this.#exited;
    this.signal("SIGCONT"); // a stopped process cannot act on SIGTERM
    this.signal(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) =>
      timer = setTimeout(() => resolve("late"), graceMs)
    );
    const first = await Promise.race([this.status, late]);
    clearTimeout(timer);
    if (first === "late") this.signal("SIGKILL");
    return await this.status;
  }
}

/** Starts a tracked process. */
export function spawn(argv: readonly string[], options: SpawnOptions = {}): Child {
  return new Child(argv, options);
}

/** What a finished command printed. */
export interface RunResult {
  /** The exit code. */
  code: number;
  /** What it printed on stdout. */
  stdout: string;
  /** What it printed on stderr. */
  stderr: string;
}

/**
 * How long a command may run unless its caller says otherwise: every external command is
 * bounded, so a hung `nft` or `ip` cannot hold a scenario forever. The lab's commands take
 * milliseconds; a minute leaves room for a machine under load.
 */
export const COMMAND_TIMEOUT_MS = 60_000;

/** How long a package installation may take (apt-get update and install on a slow mirror). */
export const INSTALL_TIMEOUT_MS = 30 * 60_000;

/** A command that did not finish in time; it was killed (SIGKILL). */
export class CommandTimeout extends Error {
  readonly timeoutMs: number;
  constructor(argv: readonly string[], timeoutMs: number) {
    super(`Command did not finish within ${timeoutMs} ms and was killed: ${argv.join(" ")}`);
    this.name = "CommandTimeout";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Runs a command to completion; throws CommandError unless its code is 0 or in `accept`, and
 * CommandTimeout (after killing it) when it runs longer than `timeoutMs`.
 */
export async function run(
  argv: readonly string[],
  options: Omit<SpawnOptions, "stdin" | "stdout" | "stderr"> & {
    input?: string;
    accept?: readonly number[];
    /** Milliseconds the command may take (default COMMAND_TIMEOUT_MS). */
    timeoutMs?: number;
  } = {},
): Promise<RunResult> {
  const full = argvFor(argv, options.netns);
  const [program, placed] = launch(full, options, true);
  const child = new Deno.Command(program, {
    ...placed,
    stdin: options.input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.input));
    await writer.close();
  }
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
  }, timeoutMs);
  const out = await child.output().finally(() => clearTimeout(timer));
  if (timedOut) throw new CommandTimeout(full, timeoutMs);
  const decoder = new TextDecoder();
  const result = {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
  if (out.code !== 0 && !(options.accept ?? []).includes(out.code)) {
    throw new CommandError(full, out.code, result.stderr);
  }
  return result;
}

/** Whether an executable of this name is on PATH. */
export function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const path = `${dir}/${name}`;
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0) & 0o111)) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Ends every tracked child still running (SIGTERM, then SIGKILL). */
export async function endAll(graceMs = 1000): Promise<void> {
  await Promise.all([...live.values()].map((child) => child.end(graceMs)));
}
