/**
 * Where labs keep their files: generated configs, logs, captures. `CLIENTDOWN_STATE`
 * overrides the default: `/run/clientdown` (a tmpfs on Debian) for root, and the user's own
 * for a rootless lab, `$XDG_RUNTIME_DIR/clientdown` or `~/.local/state/clientdown` (a private
 * tmpfs is mounted there inside the run's user namespace, see user_namespace.ts). Nothing here
 * decides whether a run is live (see owner.ts): commands with different state directories
 * agree on that.
 *
 * @module
 */

import { isRoot } from "../process/privilege.ts";
import { parseLabDirName } from "./names.ts";

/** The root of clientdown's state. */
export function stateDir(): string {
  const chosen = Deno.env.get("CLIENTDOWN_STATE");
  if (chosen) return chosen;
  if (isRoot()) return "/run/clientdown";
  const runtime = Deno.env.get("XDG_RUNTIME_DIR");
  return runtime
    ? `${runtime}/clientdown`
    : `${Deno.env.get("HOME") ?? ""}/.local/state/clientdown`;
}

/** Where earlier versions kept one owner record per run; only swept now. */
export function ownersDir(): string {
  return `${stateDir()}/owners`;
}

/** The directory that holds every lab's directory. */
export function labsDir(): string {
  return `${stateDir()}/labs`;
}

/** The working directory of one lab. */
export function labDir(run: string, index: number): string {
  return `${labsDir()}/${run}-${index}`;
}

/** Runs that have a lab directory here. */
export function runsWithLabDirs(): Set<string> {
  try {
    return new Set(
      [...Deno.readDirSync(labsDir())].flatMap((e) => {
        const parsed = parseLabDirName(e.name);
        return parsed ? [parsed.run] : [];
      }),
    );
  } catch {
    return new Set(); // no labs directory yet
  }
}

/** Removes every lab directory of `run` here. */
export function removeLabDirs(run: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(labsDir())];
  } catch {
    return; // no labs directory yet
  }
  for (const entry of entries) {
    if (parseLabDirName(entry.name)?.run !== run) continue;
    try {
      Deno.removeSync(`${labsDir()}/${entry.name}`, { recursive: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}
