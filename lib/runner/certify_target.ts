/**
 * Certifies one target: every scenario in its own lab with its own server instance, many at
 * once, then evaluation into the results contract.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { holdLabThreads } from "../lab/lab_thread.ts";
import { monotonicMs } from "../libc/libc.ts";
import { runningKernelHz } from "../observe/kernel_hz.ts";
import { isRoot } from "../process/privilege.ts";
import { type Results, RESULTS_SCHEMA, type ScenarioResult } from "../results/schema.ts";
import type { Scenario } from "../suite/define_suite.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import { evaluate } from "../evaluate/evaluate.ts";
import type { Observations } from "../observe/observations.ts";
import {
  Admission,
  LATENESS_TOLERANCE_MS,
  latenessWhileMeasuring,
  runnerLateness,
} from "./lateness.ts";
import { withOwnKnobs } from "../evaluate/knob_advice.ts";
import { Gate } from "./pool.ts";

/**
 * Scenarios setting up at once by default: one per core but one, and at least one. Setting up is
 * CPU-bound (a server's runtime starting, tcpdump, the lab's namespaces); the core left over is
 * for the runner and the scenarios already measuring, whose figures a burst of setups would
 * otherwise bend. Measured with `deno task bench` at 128 in flight on 2 cores (harness overhead
 * p50, the runner's lateness p99, wall time): two per core 212 ms, 54 ms, 10.5 s; one per core
 * 90–110 ms, 21–31 ms, 10.4 s; one in all, 64 ms (as with one scenario in flight), 17 ms, 12.7 s.
 */
export const START_SLOTS: number = Math.max(1, navigator.hardwareConcurrency - 1);
import { runScenario } from "./run_scenario.ts";
import type { RunOptions } from "./run_options.ts";

/** Attempts at a scenario whose figures were taken while the runner was late, at most. */
const MAX_ATTEMPTS = 3;

/** Who may start next, by the runner's lateness. */
const admission = new Admission(runnerLateness);
/** Scenarios of this process measuring now (admitted and not yet ended). */
let measuring = 0;

/**
 * Runs a scenario once the runner is on time (see lateness.ts) and evaluates it, and runs it
 * again while its figures were taken with the runner late beyond tolerance: a late figure is
 * never judged. The last attempt starts on time with nothing else starting beside it until its
 * client has gone down; late even then, it is a harness error that names the lateness.
 */
async function runOnTime(
  scenario: Scenario,
  knobs: TargetDefinition["knobs"],
  run: (down: () => void) => Promise<Observations>,
  report: (what: string) => void,
  signal: AbortSignal,
): Promise<ScenarioResult> {
  const started = monotonicMs();
  const measured = async (down: () => void = () => {}) => {
    measuring++;
    try {
      return await run(down);
    } finally {
      measuring--;
    }
  };
  for (let attempt = 1;; attempt++) {
    // The last attempt sets up and takes its client down with no other scenario starting beside
    // it: what lateness is left then is not the run's own doing.
    let obs;
    if (attempt === MAX_ATTEMPTS) obs = await admission.lastTry(() => measuring, measured, signal);
    else {
      await admission.enter(() => measuring, signal);
      obs = await measured();
    }
    const result = evaluate(scenario, obs, monotonicMs() - started, knobs);
    const lateMs = Math.round(
      latenessWhileMeasuring(runnerLateness, obs, result.measurements.releaseMs),
    );
    const harness = { ...obs.run.harness, latenessMs: lateMs, attempts: attempt };
    // Skipped and interrupted runs hold no figure; a harness error may be the lateness itself.
    const judged = obs.run.outcome.kind === "completed" ||
      obs.run.outcome.kind === "harness-error";
    if (lateMs <= LATENESS_TOLERANCE_MS || !judged || signal.aborted) {
      // The lateness it was measured with joins the harness figures; nothing else changes.
      return { ...result, measurements: { ...result.measurements, harness } };
    }
    if (attempt === MAX_ATTEMPTS) {
      const outcome = {
        kind: "harness-error" as const,
        message:
          `the machine was too busy to time this scenario: the runner ran up to ${lateMs} ms ` +
          `late (tolerance ${LATENESS_TOLERANCE_MS} ms) in each of ${MAX_ATTEMPTS} runs, the ` +
          "last with no other scenario of the run starting beside it: other work on the machine " +
          "held it up",
      };
      const late = { ...obs, run: { ...obs.run, harness, outcome } };
      return evaluate(scenario, late, monotonicMs() - started, knobs);
    }
    report(
      `run ${attempt + 1} of ${MAX_ATTEMPTS}${
        attempt + 1 === MAX_ATTEMPTS ? " (nothing else starts beside it)" : ""
      }: the runner was ${lateMs} ms late while measuring`,
    );
  }
}

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
  const releaseLateness = runnerLateness.hold();
  const releaseLabThreads = holdLabThreads();
  const startGate = options.startGate ?? new Gate(START_SLOTS);
  const runGate = options.runGate ?? new Gate(options.concurrency);
  const signal = options.signal ?? new AbortController().signal;
  // The gate bounds how many run at once; Promise.all keeps the results in suite order.
  let results;
  try {
    results = await Promise.all(
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
          const report = (what: string) =>
            progress({
              kind: "waiting",
              target: target.id,
              scenario: scenario.id,
              for: what,
              t: monotonicMs(),
            });
          const result = await runOnTime(
            scenario,
            target.knobs,
            (down) =>
              runScenario(target, scenario, options.deadlineMs, report, startGate, signal, down),
            report,
            signal,
          );
          if (result.recommendation) {
            result.recommendation = withOwnKnobs(result.recommendation, target, scenario.phase);
          }
          progress({ kind: "end", target: target.id, result, t: monotonicMs() });
          return result;
        })
      ),
    );
  } finally {
    releaseLateness();
    releaseLabThreads();
  }
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
      ...(isRoot() ? {} : { rootless: true as const }),
      startedAt,
      durationMs: Math.round(monotonicMs() - t0),
      deadlineMs: options.deadlineMs,
      concurrency: options.concurrency,
      peakLatenessMs: Math.round(runnerLateness.maxBetween(t0, monotonicMs())),
      clientdown: denoJson.version,
      ...interrupted,
    },
    scenarios: ran,
  };
}
