/**
 * Resolves a TARGET argument: a built-in target id (`targets/<id with - as _>.ts`), the path
 * of a user's target file, or either followed by `@<variant>`. Every mistake becomes a
 * UsageError naming the file and field, before any lab exists: the definition's shape, what
 * `start()` returns (called once with a lab-like context, for every variant), a user target
 * that takes a built-in's id, and (once the server is installed) a failing `version()`.
 *
 * A TARGET that is an existing file is that file, `@` and all (`./v@1/target.ts`); otherwise
 * `<target>@<variant>` splits at the last `@` when what follows is a variant name.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { labDir } from "../lab/state_dir.ts";
import {
  checkStarts,
  defineTarget,
  isVariantName,
  selectVariant,
  type TargetDefinition,
  TargetDefinitionError,
} from "../target/define_target.ts";
import { briefly, importDefault, moduleFiles } from "./_user_modules.ts";
import { editDistance, nearIds, quoted } from "../text/near_ids.ts";
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

/** The file each loaded target (and variant) came from, for messages. */
const files = new WeakMap<TargetDefinition, string>();

/** Loads and checks the target file at `path`. */
export async function loadTargetFile(path: string): Promise<TargetDefinition> {
  const exported = await importDefault(path, "Target", isTargetError, EXAMPLE);
  try {
    // A plain object exported without defineTarget gets the same checks.
    const target = defineTarget(exported as TargetDefinition);
    checkStarts(target, labDir("check", 1));
    files.set(target, path);
    return target;
  } catch (error) {
    if (!isTargetError(error)) throw error;
    throw new UsageError(`Target file "${displayPath(path)}": ${error.message}`);
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function realPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * The target a TARGET argument names: a path (it contains `/` or ends in `.ts` / `.js`),
 * relative to the working directory, or the id of a built-in target; either may be followed
 * by `@<variant>`.
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
  const variant = spec.slice(at + 1);
  if (at > 0 && isVariantName(variant) && !(PATH_LIKE.test(spec) && isFile(spec))) {
    const target = await loadBase(spec.slice(0, at), dir);
    try {
      const chosen = selectVariant(target, variant);
      files.set(chosen, files.get(target) ?? "");
      return chosen;
    } catch (error) {
      if (error instanceof RangeError) throw new UsageError(error.message);
      throw error;
    }
  }
  return await loadBase(spec, dir);
}

async function loadBase(spec: string, dir: string): Promise<TargetDefinition> {
  if (PATH_LIKE.test(spec)) {
    const path = resolve(spec);
    const target = await loadTargetFile(path);
    // Its report would overwrite the built-in's, and the two would be told apart by nothing.
    if (builtInTargetIds(dir).includes(target.id)) {
      const builtIn = join(dir, targetFileName(target.id));
      if (realPath(builtIn) !== realPath(path)) {
        throw new UsageError(
          `Target file "${displayPath(path)}": field "id" is "${target.id}", the id of the ` +
            `built-in target "${displayPath(builtIn)}": give your target an id of its own`,
        );
      }
    }
    return target;
  }
  const known = builtInTargetIds(dir);
  if (!known.includes(spec)) {
    // One or two close ids, or none: a list of five far ones hides the one that was meant.
    const near = nearIds(spec, known, 2).filter((id) =>
      editDistance(spec, id) <= Math.max(2, Math.floor(id.length / 3))
    );
    throw new UsageError(
      `Unknown target "${spec}": ${near.length ? `did you mean ${quoted(near)}? ` : ""}` +
        `("list" shows the built-in targets; or give the path of a target file)`,
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

/**
 * Asks each target for its version, as the report will: a `version()` that throws or returns
 * no string is a mistake in the target file (exit 2), reported before any lab. Call it once
 * the servers are installed.
 */
export async function checkVersions(targets: readonly TargetDefinition[]): Promise<void> {
  for (const target of targets) {
    if (!target.version) continue;
    const file = displayPath(files.get(target) ?? `${target.id}`);
    let version: unknown;
    try {
      version = await target.version();
    } catch (error) {
      throw new UsageError(
        `Target file "${file}": field "version" failed for target "${target.id}": ${
          briefly(error)
        }`,
      );
    }
    if (typeof version !== "string") {
      throw new UsageError(
        `Target file "${file}": field "version" must return a string (got ${typeof version})`,
      );
    }
  }
}

/** Every built-in target (`targets/*.ts`), in id order. */
export async function builtInTargets(): Promise<TargetDefinition[]> {
  return await Promise.all(builtInTargetIds().map((id) => loadTarget(id)));
}
