/**
 * Resolves a TARGET argument: a built-in target id (`targets/<id with - as _>.ts`) or the
 * path of a user's target file. Every mistake becomes a UsageError naming the file and
 * field, before any lab exists.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import {
  defineTarget,
  selectVariant,
  type TargetDefinition,
  TargetDefinitionError,
} from "../target/define_target.ts";
import { importDefault, moduleFiles } from "./_user_modules.ts";
import { nearIds, quoted } from "./near_ids.ts";
import { displayPath, TARGETS_DIR } from "./repo_paths.ts";
import { UsageError } from "./usage_error.ts";

/** What `certify` runs when given no target: the reference servers. */
export const REFERENCE_TARGETS: readonly string[] = ["ref-naive", "ref-hardened"];

const EXAMPLE = `"export default defineTarget({ id, title, port, start, protocol })"`;
const PATH_LIKE = /\/|\.(ts|mts|js|mjs)$/;

function isTargetError(error: unknown): error is TargetDefinitionError {
  return error instanceof TargetDefinitionError;
}

/** The file name of a built-in target: its id with `-` replaced by `_`. */
export function targetFileName(id: string): string {
  return `${id.replaceAll("-", "_")}.ts`;
}

/** Ids of the built-in targets of a directory (default: `targets/`), sorted. */
export function builtInTargetIds(dir: string = TARGETS_DIR): string[] {
  return moduleFiles(dir).map((file) => basename(file, ".ts").replaceAll("_", "-")).sort();
}

/** Loads and checks the target file at `path`. */
export async function loadTargetFile(path: string): Promise<TargetDefinition> {
  const exported = await importDefault(path, "Target", isTargetError, EXAMPLE);
  try {
    // A plain object exported without defineTarget gets the same checks.
    return defineTarget(exported as TargetDefinition);
  } catch (error) {
    if (!isTargetError(error)) throw error;
    throw new UsageError(`Target file "${displayPath(path)}": ${error.message}`);
  }
}

/**
 * The target a TARGET argument names: a path (it contains `/` or ends in `.ts` / `.js`),
 * relative to the working directory, or the id of a built-in target.
 *
 * @example
 * ```ts ignore
 * import { loadTarget } from "./load_target.ts";
 * const target = await loadTarget("ref-hardened");
 * console.log(target.title);
 * ```
 */
export async function loadTarget(
  spec: string,
  dir: string = TARGETS_DIR,
): Promise<TargetDefinition> {
  const at = spec.lastIndexOf("@");
  if (at > 0) {
    const target = await loadTarget(spec.slice(0, at), dir);
    try {
      return selectVariant(target, spec.slice(at + 1));
    } catch (error) {
      if (error instanceof RangeError) throw new UsageError(error.message);
      throw error;
    }
  }
  if (PATH_LIKE.test(spec)) return await loadTargetFile(resolve(spec));
  const known = builtInTargetIds(dir);
  if (!known.includes(spec)) {
    throw new UsageError(
      `Unknown target "${spec}": the nearest built-in targets are ${quoted(nearIds(spec, known))}` +
        ` (or give the path of a target file)`,
    );
  }
  const path = join(dir, targetFileName(spec));
  const target = await loadTargetFile(path);
  if (target.id !== spec) {
    throw new UsageError(
      `Target file "${displayPath(path)}": field "id" must be "${spec}", as its file name says ` +
        `(got "${target.id}")`,
    );
  }
  return target;
}
