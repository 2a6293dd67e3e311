/**
 * Where the built-in suites and targets live, and how the CLI names a file in a message:
 * relative to the repository when it is inside it, so an error reads `suites/vanish.ts`.
 *
 * @module
 */

import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the directory of `deno.json`). */
export const REPO_ROOT: string = resolve(fileURLToPath(new URL("../..", import.meta.url)));
/** The built-in suite files. */
export const SUITES_DIR: string = resolve(REPO_ROOT, "suites");
/** The built-in target files. */
export const TARGETS_DIR: string = resolve(REPO_ROOT, "targets");

/** A file's path for messages: relative to the repository when inside it, else absolute. */
export function displayPath(path: string): string {
  const absolute = resolve(path);
  const inside = relative(REPO_ROOT, absolute);
  return inside && !inside.startsWith("..") && !isAbsolute(inside) ? inside : absolute;
}
