/**
 * Certifies one target: every scenario in its own lab with its own server instance, many at
 * once, then evaluation into the results contract.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { monotonicMs } from "../libc/libc.ts";
import { runningKernelHz } from "../observe/kernel_hz.ts";
import { type Results, RESULTS_SCHEMA, type ScenarioResult } from "../results/schema.ts";
import type { Scenario } from "../suite/define_suite.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import { evaluate } from "./evaluate.ts";
import { withOwnKnobs } from "./knob_advice.ts";
import { Gate } from "./pool.ts";

/** Scenarios setting up at once by default: two per core, as starting is CPU-bound. */
export const START_SLOTS: number = 2 * navigator.hardwareConcurrency;
import { runScenario } from "./run_scenario.ts";
import type { RunOptions } from "./run_options.ts";

async function targetVersion(target: TargetDefinition): Promise<string> {
  try {
    return (await target.version?.())?.trim() || "unknown";
  } catch {
    return "unknown";
  }
}

/** Runs `scenarios` against `target` and returns the results. */
export async function certifyTarget(
  target: TargetDefinition,
  scenarios: readonly Scenario[],
  options: RunOptions,
): Promise<Results> {
  const startedAt = new Date().toISOString();
  const t0 = monotonicMs();
  const progress = options.onProgress ?? (() => {});
  const version = await targetVersion(target);
  // Which timer wheel the predictions assumed: unknown (absent) means the coarsest.
  const kernelHz = await runningKernelHz();
  const startGate = options.startGate ?? new Gate(START_SLOTS);
  const runGate = options.runGate ?? new Gate(options.concurrency);
  const signal = options.signal ?? new AbortController().signal;
  // The gate bounds how many run at once; Promise.all keeps the results in suite order.
  const results = await Promise.all(
    scenarios.map((scenario) =>
      runGate.through(async (): Promise<ScenarioResult | undefined> => {
        // Interrupted before its turn: it never started, so it is left out.
        if (signal.aborted) return undefined;
        const started = monotonicMs();
        progress({
          kind: "start",
          target: target.id,
          scenario: scenario.id,
          deadlineMs: options.deadlineMs,
          t: started,
        });
        const obs = await runScenario(
          target,
          scenario,
          options.deadlineMs,
          (what) =>
            progress({
              kind: "waiting",
              target: target.id,
              scenario: scenario.id,
              for: what,
              t: monotonicMs(),
            }),
          startGate,
          signal,
        );
        const result = evaluate(scenario, obs, monotonicMs() - started);
        if (result.recommendation) {
          result.recommendation = withOwnKnobs(result.recommendation, target, scenario.phase);
        }
        progress({ kind: "end", target: target.id, result, t: monotonicMs() });
        return result;
      })
    ),
  );
  const ran = results.filter((r): r is ScenarioResult => r !== undefined);
  const interrupted = signal.aborted
    ? {
      interrupted: {
        signal: String(signal.reason ?? "interrupted"),
        finished: ran.filter((r) => r.verdict !== "interrupted").length,
        planned: scenarios.length,
      },
    }
    : {};
  return {
    schema: RESULTS_SCHEMA,
    target: {
      id: target.id,
      title: target.title,
      version,
      ...(target.knobs && Object.keys(target.knobs).length ? { knobs: { ...target.knobs } } : {}),
    },
    environment: {
      kernel: Deno.osRelease(),
      ...(kernelHz === undefined ? {} : { kernelHz }),
      startedAt,
      durationMs: Math.round(monotonicMs() - t0),
      deadlineMs: options.deadlineMs,
      concurrency: options.concurrency,
      clientdown: denoJson.version,
      ...interrupted,
    },
    scenarios: ran,
  };
}
