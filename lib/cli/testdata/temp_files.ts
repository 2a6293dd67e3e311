/**
 * Suite and target files written to a temporary directory, as a user would write them,
 * importing the DSL by absolute URL; and a fake runner that gives chosen verdicts.
 *
 * @module
 */

import type { Results, ScenarioResult, Verdict } from "../../results/schema.ts";
import type { Scenario } from "../../suite/define_suite.ts";
import type { TargetDefinition } from "../../target/define_target.ts";
import type { RunOptions } from "../../runner/run_options.ts";
import { makeScenario } from "../../results/testdata/make_results.ts";

const lib = new URL("../../", import.meta.url).href;

/** A scenario's source text; `fields` replaces fields (TypeScript source text; `""` omits one). */
export function scenarioSource(id: string, fields: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    id: JSON.stringify(id),
    title: JSON.stringify(`Title of ${id}`),
    requirement: JSON.stringify(`A server does the right thing in ${id}`),
    level: `"MUST"`,
    refs: `["RFC 9293 §3.8.4"]`,
    phase: `"idle"`,
    steps: `[connect(), exchange(), fault.vanish()]`,
    expect: `[released({ within: "10m" }), serverAlive()]`,
    ...fields,
  };
  const body = Object.entries(all).filter(([, v]) => v !== "").map(([k, v]) => `${k}: ${v}`);
  return `{ ${body.join(", ")} }`;
}

/** A suite file's source text with these scenario sources. */
export function suiteSource(id: string, scenarios: string[]): string {
  return `import { defineSuite } from "${lib}suite/define_suite.ts";
import { abort, connect, exchange, fault } from "${lib}suite/steps.ts";
import { released, serverAlive } from "${lib}suite/expectations.ts";

export default defineSuite({
  id: ${JSON.stringify(id)},
  title: ${JSON.stringify(`Suite ${id}`)},
  scenarios: [
    ${scenarios.join(",\n    ")},
  ],
});
`;
}

/** A good suites directory's files: `rst` (2 scenarios) and `vanish` (3). */
export const GOOD_SUITES: Record<string, string> = {
  "rst.ts": suiteSource("rst", [
    scenarioSource("rst/idle", { steps: "[connect(), exchange(), abort()]" }),
    scenarioSource("rst/mid-request", { steps: "[connect(), abort()]", level: `"SHOULD"` }),
  ]),
  "vanish.ts": suiteSource("vanish", [
    scenarioSource("vanish/idle"),
    scenarioSource("vanish/mid-request", { level: `"SHOULD"` }),
    scenarioSource("vanish/mid-response", { level: `"MAY"` }),
  ]),
};

/** A target file's source text; `fields` replaces fields (TypeScript source text; `""` omits one). */
export function targetSource(fields: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    id: `"my-echo"`,
    title: `"my echo server"`,
    port: "7000",
    start: `({ address, port }) => ({ argv: ["my-echo", \`\${address}:\${port}\`] })`,
    protocol: `{
      request: { send: "PING\\n", until: "PONG\\n" },
      partialRequest: "PI",
      largeRequest: { send: "BIG\\n", responseBytes: 67108864 },
    }`,
    ...fields,
  };
  const body = Object.entries(all).filter(([, v]) => v !== "").map(([k, v]) => `${k}: ${v}`);
  return `import { defineTarget } from "${lib}target/define_target.ts";

export default defineTarget({ ${body.join(", ")} });
`;
}

/** Writes files (name → text) into a new temporary directory and returns its path. */
export async function tempDirWith(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "clientdown-cli-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return dir;
}

/** One scenario's result as the runner would give it. */
export function fakeResult(scenario: Scenario, verdict: Verdict): ScenarioResult {
  const result = makeScenario(scenario.id, verdict, {
    title: scenario.title,
    requirement: scenario.requirement,
    level: scenario.level,
    refs: scenario.refs,
    phase: scenario.phase,
  });
  result.measurements.harness = { labUpMs: 40, targetReadyMs: 30, teardownMs: 20 };
  result.expectations[0]!.measured = "5 s";
  return result;
}

/** A runner call as the fake saw it. */
export interface FakeCall {
  target: string;
  scenarios: string[];
  options: Pick<RunOptions, "deadlineMs" | "concurrency"> & { sharedPool: boolean };
}

/** A fake runner: each scenario gets `verdictOf(id)`; progress events are sent as a runner would. */
export function fakeCertify(verdictOf: (id: string) => Verdict = () => "pass") {
  const calls: FakeCall[] = [];
  const certify = (
    target: TargetDefinition,
    scenarios: readonly Scenario[],
    options: RunOptions,
  ): Promise<Results> => {
    calls.push({
      target: target.id,
      scenarios: scenarios.map((s) => s.id),
      options: {
        deadlineMs: options.deadlineMs,
        concurrency: options.concurrency,
        sharedPool: options.runGate !== undefined,
      },
    });
    const results = scenarios.map((s) => {
      options.onProgress?.({
        kind: "start",
        target: target.id,
        scenario: s.id,
        deadlineMs: options.deadlineMs,
        t: 0,
      });
      const result = fakeResult(s, verdictOf(s.id));
      options.onProgress?.({ kind: "end", target: target.id, result, t: 1 });
      return result;
    });
    return Promise.resolve({
      schema: "clientdown/results@2",
      target: { id: target.id, title: target.title, version: "0.1.0" },
      environment: {
        kernel: "6.18.0",
        startedAt: "2026-11-24T01:00:00.000Z",
        durationMs: 6000,
        deadlineMs: options.deadlineMs,
        concurrency: options.concurrency,
        clientdown: "0.1.0",
      },
      scenarios: results,
    });
  };
  return { certify, calls };
}

/**
 * `stderr` without the line of a sweep: a command run as root removes the labs any dead run on
 * this host left (test files running beside this one kill runs on purpose), which is none of
 * the command under test's output.
 */
export function withoutSweep(stderr: string): string {
  return stderr.replace(/^Removed stale labs of runs .*\n/gm, "");
}
