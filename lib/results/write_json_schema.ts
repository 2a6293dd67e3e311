/**
 * Writes `lib/results/results.schema.json`, the JSON Schema of the results contract, from the
 * zod source in `schema.ts` (`deno task schema`). A test checks the committed file is current.
 *
 * @module
 */

import { resultsJsonSchema } from "./schema.ts";

/** The published JSON Schema file. */
export const JSON_SCHEMA_FILE: URL = new URL("./results.schema.json", import.meta.url);

/** The JSON Schema file's text, as it must be committed. */
export function jsonSchemaText(): string {
  return `${JSON.stringify(resultsJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  await Deno.writeTextFile(JSON_SCHEMA_FILE, jsonSchemaText());
  console.log(`Wrote ${JSON_SCHEMA_FILE.pathname}`);
}
