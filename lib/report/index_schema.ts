/**
 * The contract of `reports/index.json` (`clientdown/index@1`) as a zod schema, the types of what
 * it parses (each field declared and documented once, in the schema, as in
 * lib/results/schema.ts), and the JSON Schema published beside this file (`index.schema.json`)
 * for other tools. A test checks that the published JSON Schema is current and that every index
 * written validates. Regenerate with
 * `deno run --allow-write=lib/report lib/report/index_schema.ts` (part of `deno task schema`).
 *
 * @module
 */

import { z } from "zod";
import { LEVELS, VERDICTS } from "../results/schema.ts";

/** The schema id written in every index file. */
export const INDEX_SCHEMA = "clientdown/index@1";

const count = () => z.int().min(0);

/**
 * Schema of {@linkcode IndexTarget}.
 *
 * @ignore
 */
export const indexTargetSchema = z.strictObject({
  id: z.string().describe("Target id, also the base name of its .json and .md"),
  title: z.string().exactOptional().describe("Its title, when the target gives one"),
  version: z.string().describe("The server's version as the target reported it"),
  report: z.string().describe("Its Markdown report, relative to the index"),
  results: z.string().describe("Its results file, relative to the index"),
  clientdown: z.string().describe("The clientdown version that produced the results"),
  deadlineMs: z.number().min(0).describe("How long each scenario waited for the server (ms)"),
  startedAt: z.string().describe("When the run started (ISO 8601)"),
  counts: z.record(z.enum(VERDICTS), count()).describe("Scenarios per verdict, zeros included"),
});
/** One target in the index. */
export type IndexTarget = ReturnType<typeof indexTargetSchema.parse>;

/**
 * Schema of {@linkcode IndexScenario}.
 *
 * @ignore
 */
export const indexScenarioSchema = z.strictObject({
  id: z.string().describe('Scenario id, e.g. "vanish/idle"'),
  level: z.enum(LEVELS).describe("Its requirement level"),
  title: z.string(),
});
/** One scenario (row of the matrix). */
export type IndexScenario = ReturnType<typeof indexScenarioSchema.parse>;

/**
 * Schema of {@linkcode ResultsIndex}.
 *
 * @ignore
 */
export const resultsIndexSchema = z.strictObject({
  schema: z.literal(INDEX_SCHEMA),
  targets: z.array(indexTargetSchema).describe("Targets, sorted by id"),
  scenarios: z.array(indexScenarioSchema).describe("Every scenario any target ran, sorted by id"),
  matrix: z.record(z.string(), z.record(z.string(), z.enum(VERDICTS))).describe(
    "Scenario id → target id → verdict; a target that did not run a scenario is absent",
  ),
}).describe("The index of a clientdown reports directory");
/** The index of a reports directory. */
export type ResultsIndex = ReturnType<typeof resultsIndexSchema.parse>;

/** Checks a parsed `index.json`; returns the problems zod found, or none. */
export function indexProblems(value: unknown): string[] {
  const parsed = resultsIndexSchema.safeParse(value);
  return parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`);
}

/** The JSON Schema of `index.json`, generated from the zod schema. */
export function indexJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(resultsIndexSchema, { target: "draft-2020-12" }),
    title: `clientdown reports index (${INDEX_SCHEMA})`,
  };
}

/** The published JSON Schema file, beside this module. */
export const INDEX_JSON_SCHEMA_FILE: URL = new URL("./index.schema.json", import.meta.url);

/** The JSON Schema file's text, as it must be committed. */
export function indexJsonSchemaText(): string {
  return `${JSON.stringify(indexJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  await Deno.writeTextFile(INDEX_JSON_SCHEMA_FILE, indexJsonSchemaText());
  console.log(`Wrote ${INDEX_JSON_SCHEMA_FILE.pathname}`);
}
