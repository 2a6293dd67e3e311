/**
 * Keeping a run's results, whatever happens at the end of it. Outputs are checked before any
 * lab is made ({@linkcode prepareOutputs}: exit 2 when they cannot be written); at the end
 * {@linkcode saveResults} writes every file atomically, and when writing still fails (a full
 * disk, a directory made read-only meanwhile) it saves the whole run in a fresh directory
 * where it survives and says where. An interrupted run calls the same function with the
 * scenarios that finished.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { INDEX_JSON } from "../report/index_json.ts";
import { renderJunit } from "../report/junit.ts";
import type { Results } from "../results/schema.ts";
import { probeWritable, writeFileAtomic } from "./atomic_write.ts";
import { prepareReportsDir, writeIndex, writeTargetFiles } from "./report_files.ts";
import { displayPath } from "./repo_paths.ts";
import { EXIT, UsageError } from "./usage_error.ts";

/** Where a run's results go. */
export interface Outputs {
  /** Reports directory: `<target>.json`, `<target>.md`, `README.md`, `index.json`. */
  dir?: string;
  /** JUnit XML file of this run's results. */
  junit?: string;
}

/** What {@linkcode saveResults} did. */
export interface Saved {
  /** Every file written where it was asked for. */
  written: string[];
  /**
   * Set when writing failed: `message` is the one line to print (what failed, and where the
   * results are instead); `savedIn` is that directory, or null when nothing could be saved
   * anywhere (then `json` holds the results, to be printed as the last resort).
   */
  failure?: { message: string; savedIn: string | null; json?: string };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Checks, before any lab is made, that every output can be written: the reports directory
 * (made when missing; the results already there must read back, the index covers them) and
 * the directory of the JUnit file. Throws a UsageError (exit 2) naming the path.
 *
 * @param targetIds the ids of the targets to be run, whose files must not clash with the index
 */
export async function prepareOutputs(
  outputs: Outputs,
  targetIds: readonly string[] = [],
): Promise<void> {
  const clash = targetIds.find((id) => `${id}.json` === INDEX_JSON);
  if (outputs.dir !== undefined && clash !== undefined) {
    throw new UsageError(
      `Target id "${clash}" cannot be written to a reports directory: "${INDEX_JSON}" is the index`,
    );
  }
  if (outputs.dir !== undefined) await prepareReportsDir(outputs.dir);
  if (outputs.junit !== undefined) {
    const file = resolve(outputs.junit);
    try {
      if ((await Deno.stat(file).catch(() => null))?.isDirectory) {
        throw new Error("it is a directory");
      }
      await probeWritable(dirname(file));
    } catch (error) {
      throw new UsageError(
        `JUnit file "${displayPath(file)}" cannot be written: ${reason(error)}`,
      );
    }
  }
}

/** Writes every output; throws the first error, wrapped with the path it concerned. */
async function writeAll(
  all: readonly Results[],
  outputs: Outputs,
  written: string[],
): Promise<void> {
  const attempt = async <T>(path: string, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (error) {
      throw new Error(`Could not write "${displayPath(path)}": ${reason(error)}`, {
        cause: error,
      });
    }
  };
  if (outputs.dir !== undefined) {
    const dir = outputs.dir;
    for (const results of all) {
      written.push(
        ...await attempt(
          join(dir, `${results.target.id}.json`),
          () => writeTargetFiles(dir, results),
        ),
      );
    }
    if (all.length) written.push(...await attempt(join(dir, "README.md"), () => writeIndex(dir)));
  }
  if (outputs.junit !== undefined) {
    const file = outputs.junit;
    await attempt(file, () => writeFileAtomic(file, renderJunit(all)));
    written.push(file);
  }
}

/** Fresh directories to save a run in when its own outputs failed, in order of preference. */
async function fallbackDirs(): Promise<string[]> {
  const dirs: string[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  try {
    dirs.push(await Deno.makeTempDir({ prefix: `clientdown-results-${stamp}-` }));
  } catch {
    // the temporary directory's file system may be the full one
  }
  const home = Deno.env.get("HOME");
  if (home) dirs.push(join(home, `clientdown-results-${stamp}-${Deno.pid}`));
  return dirs;
}

/**
 * Writes a run's results to its outputs, every file atomically (the earlier files stay whole
 * when a write fails). When writing fails, saves the whole run (results, Markdown, index and
 * JUnit) in a fresh directory under the system's temporary directory, else under $HOME, and
 * reports the one line to print; the caller exits 3. Never throws.
 *
 * @example
 * ```ts ignore
 * import { saveResults } from "./save_results.ts";
 * const saved = await saveResults(results, { dir: "reports", junit: "clientdown.xml" });
 * if (saved.failure) console.error(saved.failure.message);
 * ```
 */
export async function saveResults(all: readonly Results[], outputs: Outputs): Promise<Saved> {
  const written: string[] = [];
  let first: unknown;
  try {
    await writeAll(all, outputs, written);
    return { written };
  } catch (error) {
    first = error;
  }
  const what = `${reason(first)}; `;
  for (const dir of await fallbackDirs()) {
    const junit = outputs.junit === undefined ? {} : { junit: join(dir, basename(outputs.junit)) };
    try {
      await Deno.mkdir(dir, { recursive: true });
      await writeAll(all, { dir, ...junit }, []);
      return {
        written,
        failure: {
          message: `${what}this run's results are saved in "${dir}" instead`,
          savedIn: dir,
        },
      };
    } catch {
      // try the next place
    }
  }
  return {
    written,
    failure: {
      message: `${what}they could not be saved anywhere either, so they follow on standard output`,
      savedIn: null,
      json: `${JSON.stringify(all, null, 2)}\n`,
    },
  };
}

/**
 * Prints what {@linkcode saveResults} did: "Wrote ..." on standard output, and when writing
 * failed, its one line on standard error (and, when nothing could be saved, the results JSON
 * on standard output). Returns the exit code the failure imposes (3), or null.
 */
export function announceSaved(
  saved: Saved,
  out: (text: string) => void,
  err: (text: string) => void,
): number | null {
  if (saved.written.length) out(`Wrote ${saved.written.map(displayPath).join(", ")}\n`);
  if (!saved.failure) return null;
  err(`clientdown: ${saved.failure.message}\n`);
  if (saved.failure.json !== undefined) out(saved.failure.json);
  return EXIT.harness;
}
