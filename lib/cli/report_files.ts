/**
 * The files of a reports directory: `<target>.json` (the results), `<target>.md` (rendered
 * from that JSON) and `README.md` (the index over every JSON there). Markdown is always
 * rendered from the JSON text as written, so `report` rebuilds it byte for byte.
 *
 * @module
 */

import { basename, join } from "node:path";
import { INDEX_JSON, renderIndexJson } from "../report/index_json.ts";
import { renderIndex } from "../report/index_report.ts";
import { renderTargetReport } from "../report/target_report.ts";
import { type Results, RESULTS_SCHEMA } from "../results/schema.ts";
import { probeWritable, writeFileAtomic } from "./atomic_write.ts";
import { displayPath } from "./repo_paths.ts";
import { UsageError } from "./usage_error.ts";

/** A results file read back, with its path. */
export interface ResultsFile {
  path: string;
  results: Results;
}

/** The results in a JSON text, checked enough for the renderers; `path` names it in errors. */
export function parseResults(text: string, path: string): Results {
  const file = displayPath(path);
  let value: Partial<Results>;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`Results file "${file}" is not JSON: ${(error as Error).message}`);
  }
  if (value?.schema !== RESULTS_SCHEMA) {
    throw new UsageError(
      `Results file "${file}": field "schema" must be "${RESULTS_SCHEMA}" (got ${
        JSON.stringify(value?.schema)
      })`,
    );
  }
  if (typeof value.target?.id !== "string" || !Array.isArray(value.scenarios)) {
    throw new UsageError(
      `Results file "${file}": fields "target.id" and "scenarios" must be a string and a list`,
    );
  }
  return value as Results;
}

/** Every `*.json` results file of a directory, in file-name order. */
export async function readResultsDir(dir: string): Promise<ResultsFile[]> {
  let names: string[];
  try {
    names = (await Array.fromAsync(Deno.readDir(dir)))
      .filter((e) => e.isFile && e.name.endsWith(".json") && e.name !== INDEX_JSON)
      .map((e) => e.name)
      .sort();
  } catch {
    throw new UsageError(`Reports directory "${displayPath(dir)}" cannot be read`);
  }
  return await Promise.all(names.map(async (name) => {
    const path = join(dir, name);
    return { path, results: parseResults(await Deno.readTextFile(path), path) };
  }));
}

/**
 * Makes sure results can be written to the directory and the results already there can be
 * read back (the index covers them), before a run spends its time.
 */
export async function prepareReportsDir(dir: string): Promise<void> {
  try {
    await probeWritable(dir);
  } catch (error) {
    throw new UsageError(
      `Reports directory "${displayPath(dir)}" cannot be written: ${(error as Error).message}`,
    );
  }
  await readResultsDir(dir);
}

/** Writes `<id>.json` and `<id>.md` of one target's results; returns the paths written. */
export async function writeTargetFiles(dir: string, results: Results): Promise<string[]> {
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const jsonPath = join(dir, `${results.target.id}.json`);
  const mdPath = join(dir, `${results.target.id}.md`);
  await writeFileAtomic(jsonPath, json);
  await writeFileAtomic(mdPath, renderTargetReport(parseResults(json, jsonPath)));
  return [jsonPath, mdPath];
}

/**
 * Rewrites the index over every results file of the directory: `README.md` and its
 * machine-readable twin `index.json`; returns their paths.
 */
export async function writeIndex(dir: string): Promise<string[]> {
  const all = (await readResultsDir(dir)).map((f) => f.results);
  const md = join(dir, "README.md");
  const json = join(dir, INDEX_JSON);
  await writeFileAtomic(md, renderIndex(all));
  await writeFileAtomic(json, renderIndexJson(all));
  return [md, json];
}

/**
 * Rebuilds every Markdown file of a reports directory from its JSON (`x.json` → `x.md`, then
 * the index), with no lab; returns the paths written.
 */
export async function rebuildReports(dir: string): Promise<string[]> {
  const all = await readResultsDir(dir);
  if (!all.length) throw new UsageError(`No results files (*.json) in "${displayPath(dir)}"`);
  const written = await Promise.all(all.map(async ({ path, results }) => {
    const md = join(dir, `${basename(path, ".json")}.md`);
    await writeFileAtomic(md, renderTargetReport(results));
    return md;
  }));
  return [...written, ...await writeIndex(dir)];
}
