import assert from "node:assert/strict";
import { loadSuites, selectScenarios } from "../cli/load_suites.ts";
import { evaluate } from "../evaluate/evaluate.ts";
import { describeProblem, validateResults } from "./validate_results.ts";
import { SAMPLE } from "../report/testdata/sample_results.ts";

const OBSERVATIONS = new URL("../../testdata/observations/", import.meta.url);

Deno.test("what evaluation makes of recorded real runs follows the results contract", async () => {
  const suites = await loadSuites();
  let checked = 0;
  for (const entry of Deno.readDirSync(OBSERVATIONS)) {
    if (!entry.name.endsWith(".json")) continue;
    const fixture = JSON.parse(await Deno.readTextFile(new URL(entry.name, OBSERVATIONS)));
    const [scenario] = selectScenarios(suites, fixture.scenario);
    assert(scenario, fixture.scenario);
    const result = evaluate(scenario, fixture.observations, 1234);
    const check = validateResults({ ...SAMPLE, scenarios: [result] });
    assert(check.ok, `${entry.name}: ${check.ok ? "" : check.problems.map(describeProblem)}`);
    checked++;
  }
  assert(checked > 0);
});
