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
import { CHART_FILE, renderReleaseChart } from "../report/release_chart.ts";
import { renderTargetReport } from "../report/target_report.ts";
import { type Results, RESULTS_SCHEMA } from "../results/schema.ts";
import { describeProblem, shortJson, validateResults } from "../results/validate_results.ts";
import { probeWritable, writeFileAtomic } from "./atomic_write.ts";
import { displayPath } from "./repo_paths.ts";
import { UsageError } from "./usage_error.ts";

/** A results file read back, with its path. */
export interface ResultsFile {
  path: string;
  results: Results;
}

/**
 * The results in a JSON text, validated strictly against the results contract; `path` names
 * the file in errors. A UsageError (exit 2) names the file, the JSON path of the first problem,
 * what was expected and what was there.
 */
export function parseResults(text: string, path: string): Results {
  const file = displayPath(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`Results file "${file}" is not JSON: ${(error as Error).message}`);
  }
  const schema = (value as { schema?: unknown } | null)?.schema;
  if (schema !== RESULTS_SCHEMA) {
    throw new UsageError(
      `Results file "${file}": field "schema" must be "${RESULTS_SCHEMA}" (got ${
        shortJson(schema)
      })`,
    );
  }
  const check = validateResults(value);
  if (check.ok) return check.results;
  const [first, ...rest] = check.problems;
  const more = rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? "s" : ""})` : "";
  throw new UsageError(
    `Results file "${file}": ${first ? describeProblem(first) : "invalid"}${more}`,
  );
}

/**
 * Every `*.json` results file of a directory (not the index's own `index.json`), in file-name
 * order. Every file is validated before any is returned: one bad file is a UsageError naming
 * each bad file.
 */
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
  const read = await Promise.all(names.map(async (name) => {
    const path = join(dir, name);
    try {
      return { path, results: parseResults(await Deno.readTextFile(path), path) };
    } catch (error) {
      if (error instanceof UsageError) return error;
      throw new UsageError(
        `Results file "${displayPath(path)}" cannot be read: ${(error as Error).message}`,
      );
    }
  }));
  const bad = read.filter((r) => r instanceof UsageError);
  if (bad.length) throw new UsageError(bad.map((e) => e.message).join("\n"));
  return read as ResultsFile[];
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
 * Rewrites the index over every results file of the directory: `README.md`, its
 * machine-readable twin `index.json` and, when a target ran a charted scenario, the chart of
 * release times across servers (`releases.svg`, which the index links); returns their paths.
 */
export async function writeIndex(dir: string): Promise<string[]> {
  const all = (await readResultsDir(dir)).map((f) => f.results);
  const md = join(dir, "README.md");
  const json = join(dir, INDEX_JSON);
  const chart = await renderReleaseChart(all);
  const svg = join(dir, CHART_FILE);
  if (chart !== null) await writeFileAtomic(svg, chart);
  await writeFileAtomic(md, renderIndex(all, chart === null ? {} : { chartPath: CHART_FILE }));
  await writeFileAtomic(json, renderIndexJson(all));
  return [...chart === null ? [] : [svg], md, json];
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
