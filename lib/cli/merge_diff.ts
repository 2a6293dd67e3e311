/**
 * The file side of `merge` and `diff`: results read from files or directories (every input
 * strictly validated first, so nothing is written or compared until all of them are good).
 *
 * @module
 */

import { resolve } from "node:path";
import { diffResults, formatDiff } from "../results/diff.ts";
import { MergeError, mergeResults } from "../results/merge.ts";
import type { Results } from "../results/schema.ts";
import { displayPath } from "./repo_paths.ts";
import { parseResults, readResultsDir, type ResultsFile } from "./report_files.ts";
import { UsageError } from "./usage_error.ts";

/**
 * The results of a path: every results file of a directory, or one results file. Throws a
 * UsageError (exit 2) when it is missing, empty or malformed.
 */
export async function readResultsPath(path: string, what: string): Promise<ResultsFile[]> {
  const full = resolve(path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(full);
  } catch {
    throw new UsageError(`${what} "${displayPath(full)}" does not exist`);
  }
  if (info.isDirectory) {
    const files = await readResultsDir(full);
    if (!files.length) {
      throw new UsageError(`${what} "${displayPath(full)}" holds no results files (*.json)`);
    }
    return files;
  }
  let text: string;
  try {
    text = await Deno.readTextFile(full);
  } catch (error) {
    throw new UsageError(
      `${what} "${displayPath(full)}" cannot be read: ${(error as Error).message}`,
    );
  }
  return [{ path: full, results: parseResults(text, full) }];
}

/**
 * Reads every input (directories of shard results, or results files) and merges them into
 * one run's results per target. Throws a UsageError naming files and pairs when they do not
 * make one run.
 */
export async function mergeInputs(inputs: readonly string[]): Promise<Results[]> {
  const files: ResultsFile[] = [];
  for (const input of inputs) files.push(...await readResultsPath(input, "Shard"));
  try {
    return mergeResults(files.map((f) => ({ path: displayPath(f.path), results: f.results })));
  } catch (error) {
    if (error instanceof MergeError) throw new UsageError(error.message);
    throw error;
  }
}

/** Compares OLD with NEW (files or directories): the text to print and whether a verdict got worse. */
export async function diffPaths(
  oldPath: string,
  newPath: string,
): Promise<{ text: string; worse: boolean }> {
  const before = await readResultsPath(oldPath, "OLD");
  const after = await readResultsPath(newPath, "NEW");
  for (const [side, files] of [["OLD", before], ["NEW", after]] as const) {
    const seen = new Map<string, string>();
    for (const f of files) {
      const other = seen.get(f.results.target.id);
      if (other) {
        throw new UsageError(
          `${side} has target "${f.results.target.id}" twice: "${displayPath(other)}" and "${
            displayPath(f.path)
          }"`,
        );
      }
      seen.set(f.results.target.id, f.path);
    }
  }
  const diff = diffResults(before.map((f) => f.results), after.map((f) => f.results));
  if (diff.compared === 0) {
    const ids = (files: ResultsFile[]) => files.map((f) => f.results.target.id).join(", ");
    throw new UsageError(
      `OLD and NEW share no scenario of a target: nothing to compare (OLD has ${
        ids(before)
      }; NEW has ${ids(after)})`,
    );
  }
  return { text: formatDiff(diff), worse: diff.worse > 0 };
}
