/**
 * The files users edit (suites, targets): which files of a directory are modules, and the
 * default export of one, with every way the import can go wrong turned into a UsageError
 * that names the file: missing, does not parse, throws while loading, exports nothing.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "./usage_error.ts";
import { displayPath } from "./repo_paths.ts";

/** Module files of a directory, sorted: `*.ts`, no tests, no `_private.ts`. */
export function moduleFiles(dir: string): string[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    throw new UsageError(`Directory "${displayPath(dir)}" cannot be read`);
  }
  return entries
    .filter((e) =>
      e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && !e.name.startsWith("_")
    )
    .map((e) => e.name)
    .sort()
    .map((name) => join(dir, name));
}

/** Lines of a foreign error kept in a message, so it stays on one screen. */
const MAX_LINES = 6;

/** The first lines of an error's message (a file's own error, shown as it is). */
export function briefly(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const lines = text.trim().split("\n");
  return lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), "…"].join("\n") : text.trim();
}

/**
 * The default export of the file at `path` (a TypeScript or JavaScript module).
 * `kind` ("Suite", "Target") starts every message; `isDefinitionError` picks the errors whose
 * message already names the field, shown without their class name; `example` is the line
 * the file is expected to contain.
 */
export async function importDefault(
  path: string,
  kind: string,
  isDefinitionError: (error: unknown) => error is Error,
  example: string,
): Promise<unknown> {
  const file = displayPath(path);
  try {
    Deno.statSync(path);
  } catch {
    throw new UsageError(`${kind} file "${file}" does not exist`);
  }
  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(resolve(path)).href);
  } catch (error) {
    if (isDefinitionError(error)) throw new UsageError(`${kind} file "${file}": ${error.message}`);
    throw new UsageError(`${kind} file "${file}" failed to load: ${briefly(error)}`);
  }
  if (module.default === undefined) {
    throw new UsageError(`${kind} file "${file}" has no default export: expected ${example}`);
  }
  return module.default;
}
