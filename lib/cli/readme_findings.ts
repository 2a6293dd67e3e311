/**
 * `deno task findings`: rewrites the README's "What we found" table from the published
 * results (`reports/*.json`), so the table is never written by hand. Needs --allow-read and
 * --allow-write.
 *
 * @module
 */

import { resolve } from "node:path";
import { withFindings } from "../report/findings_table.ts";
import { REPO_ROOT } from "./repo_paths.ts";
import { readResultsDir } from "./report_files.ts";

/** The README and the published reports it is built from. */
export const README_PATH: string = resolve(REPO_ROOT, "README.md");
/** The published reports. */
export const REPORTS_DIR: string = resolve(REPO_ROOT, "reports");

/** The README as it should read, from the published results. */
export async function readmeWithFindings(): Promise<string> {
  const results = (await readResultsDir(REPORTS_DIR)).map((f) => f.results);
  return withFindings(await Deno.readTextFile(README_PATH), results);
}

if (import.meta.main) {
  await Deno.writeTextFile(README_PATH, await readmeWithFindings());
  console.error(`Wrote the findings table of ${README_PATH}`);
}
