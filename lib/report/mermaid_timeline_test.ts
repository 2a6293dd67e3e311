import assert from "node:assert/strict";
import mermaid from "mermaid";
import type { Results } from "../results/schema.ts";
import { renderTargetReport } from "./target_report.ts";
import { SAMPLE } from "./testdata/sample_results.ts";

const REPORTS = new URL("../../reports/", import.meta.url);

/** The sample, and every results file published in reports/. */
function allResults(): Results[] {
  const published: Results[] = [];
  try {
    for (const entry of Deno.readDirSync(REPORTS)) {
      if (entry.name.endsWith(".json") && entry.name !== "index.json") {
        published.push(JSON.parse(Deno.readTextFileSync(new URL(entry.name, REPORTS))));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return [SAMPLE, ...published];
}

Deno.test("every Mermaid timeline in the reports parses as a sequence diagram", async () => {
  let parsed = 0;
  for (const results of allResults()) {
    const markdown = renderTargetReport(results);
    for (const [, diagram] of markdown.matchAll(/```mermaid\n([^]*?)```/g)) {
      try {
        const { diagramType } = await mermaid.parse(diagram ?? "");
        assert.equal(diagramType, "sequence");
      } catch (error) {
        assert.fail(`${results.target.id}: a timeline does not parse: ${error}\n${diagram}`);
      }
      parsed++;
    }
  }
  assert(parsed > 0);
});
