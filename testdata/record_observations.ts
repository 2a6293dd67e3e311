/**
 * Records what the runner observed in real runs, as fixtures for evaluation tests that need
 * no root: runs each scenario against a target in a real lab and writes its observations,
 * with the packets of the connection under test only.
 *
 * ```sh
 * deno run --allow-all testdata/record_observations.ts TARGET DEADLINE SCENARIO...
 * # e.g. testdata/record_observations.ts ref-hardened 10s rst/idle vanish/idle
 * ```
 *
 * Each fixture goes to `testdata/observations/<target id>__<scenario>.json` (slashes and
 * `@` as `_`).
 *
 * @module
 */

import { loadSuites, selectScenarios } from "../lib/cli/load_suites.ts";
import { loadTarget } from "../lib/cli/load_target.ts";
import type { Observations } from "../lib/observe/observations.ts";
import { packetsOf } from "../lib/evaluate/release_how.ts";
import { runScenario } from "../lib/runner/run_scenario.ts";
import { parseDuration } from "../lib/time/duration.ts";

/** A recorded run: what evaluation tests read. */
export interface ObservationFixture {
  target: string;
  scenario: string;
  deadlineMs: number;
  observations: Observations;
}

/** The file of a fixture. */
export function fixturePath(target: string, scenario: string): string {
  const name = `${target}__${scenario}`.replaceAll(/[/@]/g, "_");
  return new URL(`./observations/${name}.json`, import.meta.url).pathname;
}

/** Reads a recorded fixture. */
export function readFixture(target: string, scenario: string): ObservationFixture {
  return JSON.parse(Deno.readTextFileSync(fixturePath(target, scenario)));
}

if (import.meta.main) {
  const [spec = "", deadline = "10s", ...ids] = Deno.args;
  const target = await loadTarget(spec);
  const suites = await loadSuites();
  const deadlineMs = parseDuration(deadline);
  await Promise.all(
    ids.flatMap((id) => selectScenarios(suites, id)).map(async (scenario) => {
      const observations = await runScenario(target, scenario, deadlineMs);
      const packets = observations.capture.packets;
      if (packets) {
        observations.capture.packets = packetsOf(packets, observations.connection.clientPort);
      }
      const fixture: ObservationFixture = {
        target: target.id,
        scenario: scenario.id,
        deadlineMs,
        observations,
      };
      const path = fixturePath(target.id, scenario.id);
      await Deno.writeTextFile(path, JSON.stringify(fixture) + "\n");
      console.error(`${path}: ${observations.run.outcome.kind}`);
    }),
  );
}
