// Tests break results files on purpose: the edits reach into untyped JSON.
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { join } from "node:path";
import { SAMPLE } from "../report/testdata/sample_results.ts";
import { main } from "./main.ts";
import { parseResults, readResultsDir } from "./report_files.ts";
import { withoutSweep } from "./testdata/temp_files.ts";
import { UsageError } from "./usage_error.ts";

const GOOD = JSON.stringify(SAMPLE, null, 2);

function broken(edit: (r: any) => void): string {
  const copy: any = structuredClone(SAMPLE);
  edit(copy);
  return JSON.stringify(copy, null, 2);
}

/** `report --out dir` through main(), with output captured. */
async function report(dir: string) {
  let stderr = "";
  const code = await main(["report", "--out", dir], {
    stdout: () => {},
    stderr: (t) => stderr += t,
    terminal: false,
  });
  return { code, stderr: withoutSweep(stderr) };
}

const MALFORMED: [string, string, RegExp][] = [
  ["no environment", broken((r) => delete r.environment), /field "environment" is missing/],
  [
    "null scenario",
    broken((r) => r.scenarios[0] = null),
    /field "scenarios\[0\]" must be an object: got null/,
  ],
  [
    "verdict outside the list",
    broken((r) => r.scenarios[1].verdict = "ok"),
    /field "scenarios\[1\]\.verdict" must be one of "pass", .*: got "ok"/,
  ],
  [
    "release of 1e308 ms",
    broken((r) => r.scenarios[0].measurements.releaseMs = 1e308),
    /field "scenarios\[0\]\.measurements\.releaseMs" must be ≤ 2592000000: got 1e\+308/,
  ],
  [
    "negative release",
    broken((r) => r.scenarios[0].measurements.releaseMs = -1),
    /field "scenarios\[0\]\.measurements\.releaseMs" must be ≥ 0: got -1/,
  ],
  ["not JSON", "{", /is not JSON/],
  ["an array", "[]", /field "schema" must be "clientdown\/results@2" \(got undefined\)/],
];

Deno.test("parseResults: each malformed case is a UsageError naming file and field", () => {
  for (const [name, text, message] of MALFORMED) {
    assert.throws(() => parseResults(text, "/tmp/x/bad.json"), (error: unknown) => {
      assert(error instanceof UsageError, name);
      assert.match(error.message, /^Results file "\/tmp\/x\/bad\.json"/, name);
      assert.match(error.message, message, name);
      return true;
    });
  }
  assert.deepEqual(parseResults(GOOD, "good.json"), SAMPLE);
});

Deno.test("report over a directory with any malformed file exits 2 and writes nothing", async () => {
  for (const [name, text, message] of MALFORMED) {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(join(dir, "a-good.json"), GOOD);
      await Deno.writeTextFile(join(dir, "b-bad.json"), text);
      const { code, stderr } = await report(dir);
      assert.equal(code, 2, name);
      assert.match(stderr, /b-bad\.json/, name);
      assert.match(stderr, message, name);
      assert.doesNotMatch(stderr, /TypeError|\n\s+at /, `${name}: no stack trace`);
      const written = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(written, ["a-good.json", "b-bad.json"], `${name}: nothing rendered`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("readResultsDir names every bad file, and skips the index's own index.json", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "a.json"), MALFORMED[0]![1]);
    await Deno.writeTextFile(join(dir, "b.json"), GOOD);
    await Deno.writeTextFile(join(dir, "c.json"), MALFORMED[2]![1]);
    await assert.rejects(() => readResultsDir(dir), (error: unknown) => {
      assert(error instanceof UsageError);
      const lines = error.message.split("\n");
      assert.equal(lines.length, 2);
      assert.match(lines[0]!, /a\.json.*environment/);
      assert.match(lines[1]!, /c\.json.*verdict/);
      return true;
    });
    await Deno.remove(join(dir, "a.json"));
    await Deno.remove(join(dir, "c.json"));
    await Deno.writeTextFile(join(dir, "index.json"), `{"targets": []}`);
    assert.deepEqual((await readResultsDir(dir)).map((f) => f.results), [SAMPLE]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
