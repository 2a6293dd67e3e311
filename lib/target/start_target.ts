/**
 * Starting a target in a lab's server host: write its files, spawn its command there with
 * stdout and stderr going to a log file in the lab directory, and wait until the process
 * holds a listening socket on the target's port.
 *
 * @module
 */

import { type Family, SERVER } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { NETLINK_SOCK_DIAG } from "../libc/netlink.ts";
import { listenerLookup } from "../observe/connection_lookup.ts";
import { readSocketTable, socketFds } from "../observe/proc_net_tcp.ts";
import { type Child, run, spawn } from "../process/spawn.ts";
import { checkStartSpec, type TargetDefinition } from "./define_target.ts";

/** A target running in a lab. */
export interface RunningTarget {
  /** The server's pid (`nsenter` and the log wrapper exec into it). */
  pid: number;
  /** The tracked process: its `status` tells how it ended (e.g. killed by SIGPIPE). */
  child: Child;
  /** The server host's address it listens on. */
  address: string;
  /** The target's port. */
  port: number;
  /** Its stdout and stderr, appended: the evidence of what it did. */
  logPath: string;
  /** Milliseconds from spawning to a listening socket. */
  readyMs: number;
  /** Ends it by pid (SIGTERM, then SIGKILL) and resolves with its exit status. */
  stop(): Promise<Deno.CommandStatus>;
}

/** How long to wait for a target to listen. */
export interface StartTargetOptions {
  /** Milliseconds; the start spec's `readyTimeoutMs`, else 10 000, unless given. */
  readyTimeoutMs?: number;
}

/** A target that did not start: it exited early or never listened. Carries its log's tail. */
export class TargetStartError extends Error {
  /** The target's id. */
  readonly target: string;
  /** The last lines the target printed. */
  readonly logTail: string;
  /** `problem` completes "Target "<id>" …", e.g. `exited with code "1"`. */
  constructor(target: string, problem: string, logTail: string) {
    super(`Target "${target}" ${problem}${logTail ? `; its last lines:\n${logTail}` : ""}`);
    this.name = "TargetStartError";
    this.target = target;
    this.logTail = logTail;
  }
}

/**
 * How often the server-start wait looks for the listener: a sock_diag lookup costs about 9 µs,
 * and each poll saved is up to this long a target's start is counted late.
 */
const POLL_MS = 2;
const TAIL_LINES = 20;
/** Runs the target's argv with stdout and stderr appended to the log file, keeping its pid. */
const WITH_LOG = 'log="$1"; shift; exec "$@" >>"$log" 2>&1';

/**
 * Starts a target in the lab's server host and waits until it listens on its port.
 *
 * @example
 * ```ts ignore
 * import { createLab } from "../lab/lab.ts";
 * import refHardened from "../../targets/ref_hardened.ts";
 * import { startTarget } from "./start_target.ts";
 * const lab = await createLab();
 * try {
 *   const target = await startTarget(refHardened, lab, "v6");
 *   await target.stop();
 * } finally {
 *   await lab.teardown();
 * }
 * ```
 */
export async function startTarget(
  target: TargetDefinition,
  lab: Lab,
  family: Family,
  options: StartTargetOptions = {},
): Promise<RunningTarget> {
  const address = SERVER[family];
  const port = target.port;
  const spec = checkStartSpec(target.id, target.start({ address, port, dir: lab.dir }));
  await writeFiles(lab.dir, spec.files ?? {});
  const logPath = `${lab.dir}/target-${target.id}.log`;
  for (const argv of spec.setup ?? []) {
    try {
      await run(argv, { netns: lab.hosts.server, cwd: lab.dir });
    } catch (error) {
      throw new TargetStartError(
        target.id,
        `could not be set up: ${error instanceof Error ? error.message : String(error)}`,
        "",
      );
    }
  }
  const started = monotonicMs();
  const child = spawn(["sh", "-c", WITH_LOG, "sh", logPath, ...spec.argv], {
    netns: lab.hosts.server,
    cwd: lab.dir,
    ...(spec.env === undefined ? {} : { env: spec.env }),
  });
  const problem = await waitListening(
    child,
    lab,
    address,
    port,
    options.readyTimeoutMs ?? spec.readyTimeoutMs ?? 10_000,
  );
  if (problem !== undefined) {
    await child.end();
    throw new TargetStartError(target.id, problem, await logTail(logPath));
  }
  for (const argv of spec.prepare ?? []) {
    try {
      await run(argv, { netns: lab.hosts.server, cwd: lab.dir });
    } catch (error) {
      await child.end();
      const problem = `could not be prepared: ${
        error instanceof Error ? error.message : String(error)
      }`;
      throw new TargetStartError(target.id, problem, await logTail(logPath));
    }
  }
  return {
    pid: child.pid,
    child,
    address,
    port,
    logPath,
    readyMs: monotonicMs() - started,
    stop: () => child.end(1000, spec.stopSignal ?? "SIGTERM"),
  };
}

// Paths were checked by checkStartSpec: relative, inside the lab directory.
async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = `${dir}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, content);
  }
}

/**
 * Undefined once the process holds a LISTEN socket that takes connections to `address` on
 * `port`, else what went wrong. Each poll is one sock_diag lookup in the server's namespace (the
 * kernel's own listener lookup, as for an incoming SYN); the socket tables are read only to say
 * where a server that never listened there listens instead.
 */
async function waitListening(
  child: Child,
  lab: Lab,
  address: string,
  port: number,
  timeoutMs: number,
): Promise<string | undefined> {
  const listener = listenerLookup(lab.netlink("server", NETLINK_SOCK_DIAG), { address, port });
  const deadline = monotonicMs() + timeoutMs;
  for (let round = 0; round <= Math.ceil(timeoutMs / POLL_MS); round++) {
    const exited = child.exited;
    if (exited) {
      const how = exited.signal
        ? `was killed by "${exited.signal}"`
        : `exited with code "${exited.code}"`;
      return `${how} before listening on port "${port}"`;
    }
    // The listener must be the process's own: a namespace holds only the lab's sockets, but the
    // inode check keeps this exact.
    const inode = listener();
    if (inode !== undefined && socketFds(child.pid).has(inode)) return undefined;
    if (monotonicMs() >= deadline) break;
    await exitOrDelay(child, POLL_MS);
  }
  const own = socketFds(child.pid);
  const elsewhere = [
    ...new Set(
      readSocketTable(child.pid)
        .filter((entry) => entry.state === "LISTEN" && own.has(entry.inode))
        .map((entry) =>
          entry.local.port === port
            ? `port "${port}" at "${entry.local.address}"`
            : `port "${entry.local.port}"`
        ),
    ),
  ];
  const instead = elsewhere.length ? ` (it listens on ${elsewhere.join(", ")} instead)` : "";
  return `did not listen on port "${port}" within "${timeoutMs}" ms${instead}`;
}

async function exitOrDelay(child: Child, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([child.status, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
  clearTimeout(timer);
}

/** The last lines a target printed (its log file), or "" when there is none. */
export async function logTail(path: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
  } catch {
    return "";
  }
}
