// Tests break results files on purpose: the edits reach into untyped JSON.
// deno-lint-ignore-file no-explicit-any
import { Ajv2020 } from "ajv/dist/2020.js";
import assert from "node:assert/strict";
import { SAMPLE } from "../report/testdata/sample_results.ts";
import { MAX_MS, type Results } from "./schema.ts";
import { describeProblem, validateResults } from "./validate_results.ts";
import { JSON_SCHEMA_FILE, jsonSchemaText } from "./write_json_schema.ts";

const REPORTS = new URL("../../reports/", import.meta.url);

/** The published JSON Schema, compiled by another validator (ajv, strict mode). */
const jsonSchemaAccepts = new Ajv2020({ strict: true, allErrors: true, validateFormats: false })
  .compile(JSON.parse(Deno.readTextFileSync(JSON_SCHEMA_FILE)));

/** The first problem of a value, in words, or "valid". */
function firstProblem(value: unknown): string {
  const check = validateResults(value);
  return check.ok ? "valid" : describeProblem(check.problems[0]!);
}

/** The sample, changed by `edit`. */
function broken(edit: (r: Record<string, any>) => void): unknown {
  const copy = structuredClone(SAMPLE) as Record<string, any>;
  edit(copy);
  return copy;
}

Deno.test("the committed JSON Schema is the one the zod source generates", async () => {
  assert.equal(
    await Deno.readTextFile(JSON_SCHEMA_FILE),
    jsonSchemaText(),
    "lib/results/results.schema.json is stale: run `deno task schema`",
  );
});

Deno.test("every published results file in reports/ follows the contract", () => {
  let checked = 0;
  for (const entry of Deno.readDirSync(REPORTS)) {
    if (!entry.name.endsWith(".json") || entry.name === "index.json") continue;
    const value = JSON.parse(Deno.readTextFileSync(new URL(entry.name, REPORTS)));
    assert.equal(firstProblem(value), "valid", entry.name);
    assert(jsonSchemaAccepts(value), `${entry.name}: ${JSON.stringify(jsonSchemaAccepts.errors)}`);
    checked++;
  }
  assert(checked > 0);
});

Deno.test("the sample and the new optional fields are valid", () => {
  assert.equal(firstProblem(SAMPLE), "valid");
  const full: Results = structuredClone(SAMPLE);
  full.target.knobs = { "so_keepalive": "on", "timeout": "30 s" };
  full.environment.interrupted = { signal: "SIGINT", finished: 1, planned: 2 };
  const s = full.scenarios[0]!;
  s.verdict = "interrupted";
  s.server = { stderrTail: "panic: oops\n", log: "" };
  s.measurements.leak = { kernelEndedMs: 7875, how: "keepalive-timeout", fd: 7 };
  s.prediction = {
    predicted: true,
    releaseMs: 5000,
    from: "first-keepalive-probe",
    mechanism: "keepalive",
    how: "keepalive-timeout",
    toleranceMs: { early: 0, late: 625 },
    atMs: 5000,
    watchedMs: 60_000,
    situation: "peer silent",
  };
  assert.equal(firstProblem(full), "valid");
  assert(jsonSchemaAccepts(full), JSON.stringify(jsonSchemaAccepts.errors));
});

Deno.test("malformed files are named by JSON path and what was expected", () => {
  const cases: [string, (r: Record<string, any>) => void, string][] = [
    [
      "no environment",
      (r) => delete r.environment,
      'field "environment" is missing: expected an object',
    ],
    [
      "null scenario",
      (r) => r.scenarios[1] = null,
      'field "scenarios[1]" must be an object: got null',
    ],
    [
      "verdict outside the list",
      (r) => r.scenarios[0].verdict = "great",
      'field "scenarios[0].verdict" must be one of "pass", "info", "skip", "interrupted", "warn", "inconclusive", "fail", "error": got "great"',
    ],
    [
      "absurd release",
      (r) => r.scenarios[0].measurements.releaseMs = 1e308,
      `field "scenarios[0].measurements.releaseMs" must be ≤ ${MAX_MS}: got 1e+308`,
    ],
    [
      "negative release",
      (r) => r.scenarios[0].measurements.releaseMs = -5,
      'field "scenarios[0].measurements.releaseMs" must be ≥ 0: got -5',
    ],
    [
      "string count",
      (r) => r.scenarios[0].measurements.keepaliveProbes = "3",
      'field "scenarios[0].measurements.keepaliveProbes" must be a number: got "3"',
    ],
    [
      "fractional count",
      (r) => r.scenarios[0].measurements.fdsAfter = 2.5,
      'field "scenarios[0].measurements.fdsAfter" must be an integer: got 2.5',
    ],
    [
      "unknown field",
      (r) => r.scenarios[0].measurments = {},
      'field "scenarios[0].measurments" is not a field of the contract',
    ],
    [
      "target id that is a path",
      (r) => r.target.id = "../etc/passwd",
      'field "target.id" must be a string matching /^[a-z0-9][a-z0-9.-]*(@[a-z0-9][a-z0-9-]*)?$/: got "../etc/passwd"',
    ],
    [
      "bad date",
      (r) => r.environment.startedAt = "yesterday",
      'field "environment.startedAt" must be an ISO-8601 date-time: got "yesterday"',
    ],
    [
      "level",
      (r) => r.scenarios[0].level = "must",
      'field "scenarios[0].level" must be one of "MUST", "SHOULD", "MAY": got "must"',
    ],
    ["not an object", (r) => r.scenarios = {}, 'field "scenarios" must be a list: got an object'],
    [
      "NaN-like timeline",
      (r) => r.scenarios[0].evidence[0].atMs = null,
      'field "scenarios[0].evidence[0].atMs" must be a number: got null',
    ],
  ];
  for (const [name, edit, expected] of cases) {
    assert.equal(firstProblem(broken(edit)), expected, name);
    assert(!jsonSchemaAccepts(broken(edit)), `the JSON Schema refuses it too: ${name}`);
  }
});
