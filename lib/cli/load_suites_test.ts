import assert from "node:assert/strict";
import { loadSuites, selectScenarios } from "./load_suites.ts";
import { UsageError } from "./usage_error.ts";
import { GOOD_SUITES, scenarioSource, suiteSource, tempDirWith } from "./testdata/temp_files.ts";

async function loadError(files: Record<string, string>): Promise<string> {
  const dir = await tempDirWith(files);
  try {
    await assert.rejects(loadSuites(dir), UsageError);
    return await loadSuites(dir).then(() => "", (error: UsageError) => error.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadSuites loads every suite file in file-name order, skipping tests and _private", async () => {
  const dir = await tempDirWith({
    ...GOOD_SUITES,
    "_shared.ts": "throw new Error('a private helper is not a suite');",
    "vanish_test.ts": "throw new Error('a test is not a suite');",
    "notes.md": "not a module",
  });
  try {
    const suites = await loadSuites(dir);
    assert.deepEqual(suites.map((s) => s.id), ["rst", "vanish"]);
    assert.deepEqual(suites[1]?.scenarios.map((s) => s.id), [
      "vanish/idle",
      "vanish/mid-request",
      "vanish/mid-response",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a malformed suite file is a UsageError naming the file, the scenario and the field", async () => {
  const cases: [string, RegExp][] = [
    [
      scenarioSource("vanish/idle", { level: `"MAYBE"` }),
      /^Suite file "\/tmp\/.+\/vanish\.ts": Invalid suite "vanish", scenario "vanish\/idle": field "level" must be one of MUST, SHOULD, MAY \(got "MAYBE"\)$/,
    ],
    [
      scenarioSource("vanish/idle", {
        steps: `[connect(), exchange(), { kind: "fault", fault: { name: "meteor" } }]`,
      }),
      /^Suite file ".+\/vanish\.ts": .*scenario "vanish\/idle": field "steps\[2\]\.fault" must be a known fault .*\(got "meteor"\)$/,
    ],
    [
      scenarioSource("vanish/idle", { requirement: "" }),
      /^Suite file ".+\/vanish\.ts": .*scenario "vanish\/idle": field "requirement" must be the requirement in one sentence$/,
    ],
  ];
  for (const [scenario, message] of cases) {
    const text = await loadError({
      ...GOOD_SUITES,
      "vanish.ts": suiteSource("vanish", [scenario]),
    });
    assert.match(text, message);
    assert(text.split("\n").length <= 3, `one screen: ${text}`);
  }
});

Deno.test("a suite file that throws, exports nothing or repeats a suite id names the file", async () => {
  assert.match(
    await loadError({ "bad.ts": `throw new RangeError("Oops in a suite file");` }),
    /^Suite file ".+\/bad\.ts" failed to load: RangeError: Oops in a suite file$/,
  );
  assert.match(
    await loadError({ "bad.ts": `export const suite = 1;` }),
    /^Suite file ".+\/bad\.ts" has no default export: expected "export default defineSuite/,
  );
  assert.match(
    await loadError({ "bad.ts": `export default { id: "Bad", title: "", scenarios: [] };` }),
    /^Suite file ".+\/bad\.ts": Invalid suite "Bad": field "id" must be a lowercase name/,
  );
  assert.match(
    await loadError({ "a.ts": GOOD_SUITES["rst.ts"] ?? "", "b.ts": GOOD_SUITES["rst.ts"] ?? "" }),
    /^Suite file ".+\/b\.ts": suite id "rst" is already used by ".+\/a\.ts"$/,
  );
  assert.match(await loadError({}), /^No suite files in "/);
});

Deno.test("selectScenarios: a suite id, a scenario id, and near ids for an unknown one", async () => {
  const dir = await tempDirWith(GOOD_SUITES);
  try {
    const suites = await loadSuites(dir);
    assert.deepEqual(selectScenarios(suites, "vanish").map((s) => s.id), [
      "vanish/idle",
      "vanish/mid-request",
      "vanish/mid-response",
    ]);
    assert.deepEqual(selectScenarios(suites, "vanish/idle").map((s) => s.id), ["vanish/idle"]);
    assert.throws(
      () => selectScenarios(suites, "nosuch"),
      (error: unknown) => {
        assert(error instanceof UsageError);
        assert.match(error.message, /^Unknown suite or scenario "nosuch": the nearest ids are "/);
        assert.match(error.message, /"rst"/);
        return true;
      },
    );
    assert.throws(
      () => selectScenarios(suites, "vanish/idel"),
      /Unknown suite or scenario "vanish\/idel": the nearest ids are "vanish\/idle", "vanish", "vanish\/mid-request"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
