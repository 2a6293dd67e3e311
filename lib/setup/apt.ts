/**
 * apt-get as every installer of this project runs it: non-interactive, quiet, without
 * recommended packages, bounded in time. Failures are CommandErrors (lib/process/spawn.ts),
 * each caller saying what could not be installed for what.
 *
 * Another apt may hold its locks: a fresh cloud machine's unattended-upgrades does for its
 * first minutes. Before each apt-get, the locks' holders are looked up in /proc/locks (which
 * lists both the fcntl locks apt and dpkg take and flock(1)'s); while one is held, one line
 * says that this waits, up to {@linkcode APT_LOCK_WAIT_MS}; apt-get itself then gets the rest
 * of that bound as `DPkg::Lock::Timeout` for a lock taken in between. A lock that never frees
 * is a SetupError (exit 3).
 *
 * @module
 */

import { INSTALL_TIMEOUT_MS, run } from "../process/spawn.ts";

/** Setup cannot proceed on this machine; the message says what is missing and how to fix it. */
export class SetupError extends Error {
  /** The command's exit code: 3 (the machine), or 2 for what only root can do, asked without. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 3) {
    super(message);
    this.name = "SetupError";
    this.exitCode = exitCode;
  }
}

const APT_ENV = { DEBIAN_FRONTEND: "noninteractive" };

/** The locks apt-get and dpkg take (dpkg's frontend and database, the lists, the archives). */
export const APT_LOCK_FILES: readonly string[] = [
  "/var/lib/dpkg/lock-frontend",
  "/var/lib/dpkg/lock",
  "/var/lib/apt/lists/lock",
  "/var/cache/apt/archives/lock",
];

/** How long setup waits for another apt to release its locks. */
export const APT_LOCK_WAIT_MS = 10 * 60_000;

/** A lock file as /proc/locks names it: `MAJOR:MINOR:INODE` of its file system and inode. */
export function lockKey(info: { dev: number; ino: number | null }): string {
  // st_dev is the kernel's new_encode_dev(): minor's low byte, major, minor's high bits.
  const major = (info.dev >> 8) & 0xfff;
  const minor = (info.dev & 0xff) | ((info.dev >> 12) & 0xfff00);
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return `${hex(major)}:${hex(minor)}:${info.ino ?? 0}`;
}

/**
 * The pids holding a lock on any of `keys` (see {@linkcode lockKey}), from the text of
 * /proc/locks; waiters (`->` lines) hold nothing.
 *
 * @example
 * ```ts
 * import { lockHolders } from "./apt.ts";
 * lockHolders("1: POSIX  ADVISORY  WRITE 812 fe:00:402117 0 EOF\n", ["fe:00:402117"]); // [812]
 * ```
 */
export function lockHolders(procLocks: string, keys: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const line of procLocks.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === "->") continue;
    const [pid, key] = [Number(fields[4]), fields[5]];
    if (Number.isInteger(pid) && pid > 0 && key !== undefined && keys.includes(key)) pids.add(pid);
  }
  return [...pids].sort((a, b) => a - b);
}

/** What waiting for apt's locks reads and how it waits; tests replace them. */
export interface LockWait {
  /** The text of /proc/locks. */
  readLocks?: () => string;
  /** The keys of apt's lock files (default: those of APT_LOCK_FILES that exist). */
  keys?: readonly string[];
  /** The name of a process, for the message (default: /proc/<pid>/comm). */
  nameOf?: (pid: number) => string;
  /** How long to wait at most, in ms (default APT_LOCK_WAIT_MS). */
  waitMs?: number;
  /** Time between looks, in ms (default 1000). */
  pollMs?: number;
}

function existingLockKeys(): string[] {
  return APT_LOCK_FILES.flatMap((file) => {
    try {
      return [lockKey(Deno.statSync(file) as { dev: number; ino: number | null })];
    } catch {
      return [];
    }
  });
}

function processName(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch {
    return "ended";
  }
}

/**
 * Waits until no process holds one of apt's locks, saying so once; returns the ms left of
 * the bound. Throws SetupError when they are still held at its end.
 */
export async function waitForAptLocks(
  log: (line: string) => void,
  wait: LockWait = {},
): Promise<number> {
  const readLocks = wait.readLocks ?? (() => Deno.readTextFileSync("/proc/locks"));
  const keys = wait.keys ?? existingLockKeys();
  const nameOf = wait.nameOf ?? processName;
  const waitMs = wait.waitMs ?? APT_LOCK_WAIT_MS;
  const started = performance.now();
  const holders = () => lockHolders(readLocks(), keys).filter((pid) => pid !== Deno.pid);
  const named = (pids: number[]) => pids.map((pid) => `${pid} (${nameOf(pid)})`).join(", ");
  let held = holders();
  if (!held.length) return waitMs;
  log(
    `Waiting for another apt to finish: process ${named(held)} holds its lock ` +
      `(up to ${Math.round(waitMs / 60_000)} min)`,
  );
  while (held.length) {
    const left = waitMs - (performance.now() - started);
    if (left <= 0) {
      throw new SetupError(
        `Another apt still holds its lock after ${Math.round(waitMs / 1000)} s: process ` +
          `${named(held)}; let it finish (or end it), then run setup again`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait.pollMs ?? 1000, left)));
    held = holders();
  }
  log("The other apt finished; installing");
  return Math.max(1000, waitMs - (performance.now() - started));
}

async function apt(args: readonly string[], log: (line: string) => void, wait: LockWait) {
  const leftMs = await waitForAptLocks(log, wait);
  const lockTimeout = ["-o", `DPkg::Lock::Timeout=${Math.ceil(leftMs / 1000)}`];
  await run(["apt-get", ...lockTimeout, ...args], {
    env: APT_ENV,
    timeoutMs: INSTALL_TIMEOUT_MS + leftMs,
  });
}

/** Refreshes apt's package lists (`apt-get update`), once no other apt holds its locks. */
export async function aptUpdate(
  log: (line: string) => void = () => {},
  wait: LockWait = {},
): Promise<void> {
  await apt(["update", "-qq"], log, wait);
}

/** Installs Debian packages (`apt-get install`), and only those: no recommends. */
export async function aptInstall(
  packages: readonly string[],
  log: (line: string) => void = () => {},
  wait: LockWait = {},
): Promise<void> {
  await apt(["install", "-y", "-qq", "--no-install-recommends", ...packages], log, wait);
}
