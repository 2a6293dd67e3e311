import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { readResultsDir } from "../cli/report_files.ts";
import { makeResults } from "../results/testdata/make_results.ts";
import { buildIndex, INDEX_JSON, renderIndexJson } from "./index_json.ts";
import {
  INDEX_JSON_SCHEMA_FILE,
  INDEX_SCHEMA,
  indexJsonSchemaText,
  indexProblems,
} from "./index_schema.ts";

Deno.test("index JSON: targets with versions and counts per verdict, scenario × target matrix, sorted", () => {
  const naive = makeResults("ref-naive", { "vanish/idle": "fail", "rst/idle": "pass" });
  const nginx = makeResults("nginx", { "vanish/idle": "pass", "fin/idle": "warn" });
  nginx.target.version = "1.22.1";
  const index = buildIndex([naive, nginx]);
  assert.equal(index.schema, INDEX_SCHEMA);
  assert.deepEqual(index.targets.map((t) => [t.id, t.version, t.report, t.results]), [
    ["nginx", "1.22.1", "nginx.md", "nginx.json"],
    ["ref-naive", "1.0.0", "ref-naive.md", "ref-naive.json"],
  ]);
  assert.deepEqual(index.targets[1]!.counts, {
    pass: 1,
    info: 0,
    skip: 0,
    interrupted: 0,
    warn: 0,
    inconclusive: 0,
    fail: 1,
    error: 0,
  });
  assert.deepEqual(index.scenarios.map((s) => s.id), ["fin/idle", "rst/idle", "vanish/idle"]);
  assert.deepEqual(JSON.parse(JSON.stringify(index.matrix)), {
    "fin/idle": { nginx: "warn" },
    "rst/idle": { "ref-naive": "pass" },
    "vanish/idle": { nginx: "pass", "ref-naive": "fail" },
  });
  // The same results in any order give the same text.
  assert.equal(renderIndexJson([naive, nginx]), renderIndexJson([nginx, naive]));
});

Deno.test("the published reports/index.json is the index of reports/*.json", async () => {
  const reports = new URL("../../reports/", import.meta.url);
  const all = await readResultsDir(fileURLToPath(reports));
  assert.ok(all.length > 0);
  assert.equal(
    await Deno.readTextFile(new URL(INDEX_JSON, reports)),
    renderIndexJson(all.map((f) => f.results)),
    'reports/index.json is stale: run "deno task report"',
  );
});

Deno.test("every index written validates against the index schema; the published JSON Schema is current", async () => {
  const naive = makeResults("ref-naive", { "vanish/idle": "fail", "rst/idle": "interrupted" });
  assert.deepEqual(indexProblems(JSON.parse(renderIndexJson([naive]))), []);
  const published = new URL("../../reports/index.json", import.meta.url);
  assert.deepEqual(indexProblems(JSON.parse(await Deno.readTextFile(published))), []);
  assert.deepEqual(indexProblems({ schema: INDEX_SCHEMA, targets: [], scenarios: [] }), [
    "matrix: Invalid input: expected record, received undefined",
  ]);
  assert.equal(
    await Deno.readTextFile(INDEX_JSON_SCHEMA_FILE),
    indexJsonSchemaText(),
    "lib/report/index.schema.json is stale: run `deno task schema`",
  );
});
