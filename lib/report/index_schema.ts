/**
 * The contract of `reports/index.json` (`clientdown/index@1`) as a zod schema, and the JSON
 * Schema published beside this file (`index.schema.json`) for other tools. The types of
 * `index_json.ts` are checked against it at compile time; a test checks that the published JSON
 * Schema is current and that every index written validates. Regenerate with
 * `deno run --allow-write=lib/report lib/report/index_schema.ts` (part of `deno task schema`).
 *
 * @module
 */

import { z } from "zod";
import { LEVELS, VERDICTS } from "../results/schema.ts";
import { INDEX_SCHEMA, type ResultsIndex } from "./index_json.ts";

const count = () => z.int().min(0);

const indexObject = z.strictObject({
  schema: z.literal(INDEX_SCHEMA),
  targets: z.array(z.strictObject({
    id: z.string().describe("Target id, also the base name of its .json and .md"),
    title: z.string().exactOptional(),
    version: z.string().describe("The server's version as the target reported it"),
    report: z.string().describe("Its Markdown report, relative to the index"),
    results: z.string().describe("Its results file, relative to the index"),
    clientdown: z.string().describe("The clientdown version that produced the results"),
    deadlineMs: z.number().min(0).describe("How long each scenario waited for the server (ms)"),
    startedAt: z.string().describe("When the run started (ISO 8601)"),
    counts: z.record(z.enum(VERDICTS), count()).describe("Scenarios per verdict, zeros included"),
  })).describe("Targets, sorted by id"),
  scenarios: z.array(z.strictObject({
    id: z.string(),
    level: z.enum(LEVELS),
    title: z.string(),
  })).describe("Every scenario any target ran, sorted by id"),
  matrix: z.record(z.string(), z.record(z.string(), z.enum(VERDICTS))).describe(
    "Scenario id → target id → verdict; a target that did not run a scenario is absent",
  ),
}).describe("The index of a clientdown reports directory");

/** Checks a parsed `index.json`; returns the problems zod found, or none. */
export function indexProblems(value: unknown): string[] {
  const parsed = indexObject.safeParse(value);
  return parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`);
}

/** The JSON Schema of `index.json`, generated from the zod schema. */
export function indexJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(indexObject, { target: "draft-2020-12" }),
    title: `clientdown reports index (${INDEX_SCHEMA})`,
  };
}

/** The published JSON Schema file, beside this module. */
export const INDEX_JSON_SCHEMA_FILE: URL = new URL("./index.schema.json", import.meta.url);

/** The JSON Schema file's text, as it must be committed. */
export function indexJsonSchemaText(): string {
  return `${JSON.stringify(indexJsonSchema(), null, 2)}\n`;
}

// The hand-written type and the schema accept the same values, or this does not compile.
type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;
const _agree: Same<ResultsIndex, z.infer<typeof indexObject>> = true;

if (import.meta.main) {
  await Deno.writeTextFile(INDEX_JSON_SCHEMA_FILE, indexJsonSchemaText());
  console.log(`Wrote ${INDEX_JSON_SCHEMA_FILE.pathname}`);
}
