/**
 * `deno task bench`: the harness's own weight, measured. Runs a fixed mix of short scenarios
 * against ref-hardened at 1, 32 and 128 in flight (as many scenarios as in flight, at least
 * one of each in the mix) and prints, and writes as JSON:
 *
 * - harness overhead per scenario (lab up, target ready, teardown), p50 and p90;
 * - the runner's event-loop lateness, p99 of its 100 ms maxima, and its peak;
 * - fault apply → effect (the lag between asking for a fault and the kernel acting on it),
 *   p50 and p99, where the results record it, and p99 by the source of the moment;
 * - memory per lab, the server excluded, when the most labs are in flight: the processes in the
 *   lab's client and router hosts, plus the runner's own growth shared among them; as RSS (each process's
 *   resident pages, shared library pages counted in every process that maps them) and as PSS
 *   (each shared page divided among the processes that share it: what a lab adds to the machine);
 * - wall time;
 *
 * and compares verdicts and figures between the lowest and the highest level: the same
 * scenario must get the same verdict, and its release time must agree within its tolerance.
 *
 * A benchmark, not a test: it asserts nothing, it reports. Needs root.
 *
 * Usage: `deno task bench [--levels 1,32,128] [--out FILE]` (default out:
 * clientdown-reports/bench.json)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadTarget } from "../cli/load_target.ts";
import { loadSuites, selectScenarios } from "../cli/load_suites.ts";
import { monotonicMs } from "../libc/libc.ts";
import { runningKernelHz } from "../observe/kernel_hz.ts";
import { type TimerWheel, timerWheel } from "../observe/timer_wheel.ts";
import type { ScenarioResult } from "../results/schema.ts";
import { certifyTarget } from "../runner/certify_target.ts";
import { runnerLateness } from "../runner/lateness.ts";
import type { Scenario } from "../suite/define_suite.ts";
import type { LabsMemory } from "./_memory_sampler.ts";

/** The mix: short scenarios that between them use every kind of fault the runner times. */
export const MIX: readonly string[] = [
  "fin/idle",
  "fin/mid-request",
  "rst/idle",
  "rst/mid-response",
  "crash/idle",
  "blip/idle",
  "vanish/idle",
  "reboot/idle",
];
const TARGET = "ref-hardened";
/**
 * What a release time measured twice may differ by, beyond the kernel's own timers: the socket
 * lookup that sees it runs every 15 ms, every 50 ms after a quiet second (see INTERPRETING).
 */
const RELEASE_TOLERANCE_MS = 50;
/** The runner waits this long for the server (every scenario of the mix settles sooner). */
const DEADLINE_MS = 20_000;

/** What one level of concurrency measured. */
export interface LevelFigures {
  inFlight: number;
  scenarios: number;
  wallMs: number;
  overheadMs: Quantiles & { labUp: Quantiles; targetReady: Quantiles; teardown: Quantiles };
  latenessMs: { p99: number; peak: number };
  /** Runs repeated because the runner was late while measuring. */
  reruns: number;
  faultLagMs?: Quantiles & { p99: number; count: number; p99BySource: Record<string, number> };
  rssPerLabKb?: number;
  pssPerLabKb?: number;
  verdicts: Record<string, Record<string, number>>;
}

/** p50 and p90 of a sample. */
export interface Quantiles {
  p50: number;
  p90: number;
}

/** The value at quantile q (0..1) of `values`, nearest rank; 0 for an empty sample. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

function quantiles(values: readonly number[]): Quantiles {
  return { p50: Math.round(quantile(values, 0.5)), p90: Math.round(quantile(values, 0.9)) };
}

/** The scenarios of one level: the mix repeated until `inFlight` are there, at least once. */
export function scenariosFor(mix: readonly Scenario[], inFlight: number): Scenario[] {
  const count = Math.max(inFlight, mix.length);
  return Array.from({ length: count }, (_, i) => mix[i % mix.length]!);
}

/** Verdict counts per scenario id. */
function verdictCounts(results: readonly ScenarioResult[]): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const r of results) {
    const of = counts[r.id] ??= {};
    of[r.verdict] = (of[r.verdict] ?? 0) + 1;
  }
  return counts;
}

/** Fault apply → effect: the lag between asking for a fault and the kernel acting on it. */
function faultLag(results: readonly ScenarioResult[]): Pick<LevelFigures, "faultLagMs"> {
  const moments = results.flatMap((r) => r.measurements.faultMoment ?? []);
  if (moments.length === 0) return {};
  const lags = moments.map((m) => m.lagMs);
  const sources = [...new Set(moments.map((m) => m.source))];
  return {
    faultLagMs: {
      p50: quantile(lags, 0.5),
      p90: quantile(lags, 0.9),
      p99: quantile(lags, 0.99),
      count: lags.length,
      p99BySource: Object.fromEntries(
        sources.map((source) => [
          source,
          quantile(moments.filter((m) => m.source === source).map((m) => m.lagMs), 0.99),
        ]),
      ),
    },
  };
}

/** Runs one level and returns its figures and its results. */
async function runLevel(
  mix: readonly Scenario[],
  inFlight: number,
): Promise<{ figures: LevelFigures; results: ScenarioResult[] }> {
  const target = await loadTarget(TARGET);
  const scenarios = scenariosFor(mix, inFlight);
  // The runner's own monitor, held through the run: the bench reads what certification judges by.
  const release = runnerLateness.hold();
  // Taken when the most labs are in flight: the runner's growth is then shared by as many labs
  // as it serves (as they end, the garbage of their scenarios stays until the runner collects it).
  let mostLabs = 0;
  let rssPerLabKb = 0;
  let pssPerLabKb = 0;
  // Sampled on a thread of its own: reading every lab process's memory takes tens of
  // milliseconds at 128 labs, which on the runner's thread would be the runner's lateness.
  const sampler = new Worker(new URL("./_memory_sampler.ts", import.meta.url), { type: "module" });
  let runnerBaseKb: number | undefined;
  let started = () => {};
  const first = new Promise<void>((resolve) => started = resolve);
  sampler.onmessage = ({ data }: MessageEvent<LabsMemory & { runnerKb: number }>) => {
    const { labs, rssKb, pssKb, runnerKb } = data;
    if (runnerBaseKb === undefined) {
      runnerBaseKb = runnerKb; // the first sample: before any lab, the sampler's thread included
      started();
    }
    if (labs === 0 || labs < mostLabs) return;
    const runnerGrowthKb = Math.max(0, runnerKb - runnerBaseKb);
    const rss = (rssKb + runnerGrowthKb) / labs;
    const pss = (pssKb + runnerGrowthKb) / labs;
    rssPerLabKb = labs > mostLabs ? rss : Math.max(rssPerLabKb, rss);
    pssPerLabKb = labs > mostLabs ? pss : Math.max(pssPerLabKb, pss);
    mostLabs = labs;
  };
  await first;
  const t0 = monotonicMs();
  let results;
  try {
    results = await certifyTarget(target, scenarios, {
      deadlineMs: DEADLINE_MS,
      concurrency: inFlight,
    });
  } finally {
    sampler.terminate();
    release();
  }
  const wallMs = monotonicMs() - t0;
  const harness = results.scenarios.flatMap((s) => s.measurements.harness ?? []);
  const buckets = runnerLateness.bucketsBetween(t0, t0 + wallMs);
  const figures: LevelFigures = {
    inFlight,
    scenarios: scenarios.length,
    wallMs: Math.round(wallMs),
    overheadMs: {
      ...quantiles(harness.map((h) => h.labUpMs + h.targetReadyMs + h.teardownMs)),
      labUp: quantiles(harness.map((h) => h.labUpMs)),
      targetReady: quantiles(harness.map((h) => h.targetReadyMs)),
      teardown: quantiles(harness.map((h) => h.teardownMs)),
    },
    latenessMs: {
      p99: Math.round(quantile(buckets, 0.99)),
      peak: Math.round(Math.max(0, ...buckets)),
    },
    reruns: harness.reduce((n, h) => n + (h.attempts ?? 1) - 1, 0),
    ...faultLag(results.scenarios),
    ...(rssPerLabKb ? { rssPerLabKb: Math.round(rssPerLabKb) } : {}),
    ...(pssPerLabKb ? { pssPerLabKb: Math.round(pssPerLabKb) } : {}),
    verdicts: verdictCounts(results.scenarios),
  };
  return { figures, results: results.scenarios };
}

/** Whether the server's keepalive made the release (its probes went out before it). */
export function keepaliveRelease(result: ScenarioResult): boolean {
  const m = result.measurements;
  return (m.keepaliveProbes ?? 0) > 0 && m.releaseSinceLastTrafficMs !== undefined &&
    result.socketOptions?.keepalive === true;
}

/**
 * The release a scenario's figure is compared by between levels, and how far two runs of it may
 * differ. A release the server's keepalive made (`fromLastTraffic`, decided for the scenario at
 * every level alike) is counted from the last traffic, as the kernel's timer is (from the fault
 * it would carry the harness's own moment of faulting), and the kernel's timers may fire late by
 * their wheel's granularity each (timer_wheel.ts): the first probe's, then one per probe
 * interval, the abort's included. Any other release is counted from the fault, within the
 * measurement's tolerance alone.
 */
export function comparableRelease(
  result: ScenarioResult,
  wheel: TimerWheel,
  fromLastTraffic: boolean,
): { ms: number; toleranceMs: number } | undefined {
  const m = result.measurements;
  const options = result.socketOptions;
  if (!fromLastTraffic || !options || m.releaseSinceLastTrafficMs === undefined) {
    return m.releaseMs === undefined
      ? undefined
      : { ms: m.releaseMs, toleranceMs: RELEASE_TOLERANCE_MS };
  }
  const timersLateMs = wheel.latenessMs(options.keepIdleS * 1000) +
    (m.keepaliveProbes ?? 0) * wheel.latenessMs(options.keepIntvlS * 1000);
  return { ms: m.releaseSinceLastTrafficMs, toleranceMs: RELEASE_TOLERANCE_MS + timersLateMs };
}

/**
 * Differences between two levels: a scenario whose verdicts differ, or whose release at the
 * higher level lies outside the lower level's range widened by the tolerance of
 * {@linkcode comparableRelease} on `wheel`'s kernel.
 */
export function compareLevels(
  low: readonly ScenarioResult[],
  high: readonly ScenarioResult[],
  wheel: TimerWheel,
): string[] {
  const differences: string[] = [];
  const ids = [...new Set([...low, ...high].map((r) => r.id))];
  for (const id of ids) {
    const a = low.filter((r) => r.id === id);
    const b = high.filter((r) => r.id === id);
    const verdictsA = new Set(a.map((r) => r.verdict));
    const verdictsB = new Set(b.map((r) => r.verdict));
    if (
      [...verdictsB].some((v) => !verdictsA.has(v)) || [...verdictsA].some((v) => !verdictsB.has(v))
    ) {
      differences.push(
        `${id}: verdicts ${[...verdictsA].join("/")} at the lowest level, ${
          [...verdictsB].join("/")
        } at the highest`,
      );
    }
    const both = [...a, ...b].filter((r) => r.measurements.releaseMs !== undefined);
    const fromLastTraffic = both.length > 0 && both.every(keepaliveRelease);
    const releases = (rs: readonly ScenarioResult[]) =>
      rs.flatMap((r) => comparableRelease(r, wheel, fromLastTraffic) ?? []);
    const ra = releases(a);
    const rb = releases(b);
    if (ra.length && rb.length) {
      const toleranceMs = Math.max(
        ...ra.map((r) => r.toleranceMs),
        ...rb.map((r) => r.toleranceMs),
      );
      const lo = Math.min(...ra.map((r) => r.ms));
      const hi = Math.max(...ra.map((r) => r.ms));
      const off = rb.filter((r) => r.ms < lo - toleranceMs || r.ms > hi + toleranceMs);
      if (off.length) {
        differences.push(
          `${id}: release ${off.map((r) => `${r.ms} ms`).join(", ")} at the highest level, ` +
            `outside ${lo}–${hi} ms ± ${toleranceMs} ms`,
        );
      }
    }
  }
  return differences;
}

function line(f: LevelFigures): string {
  const o = f.overheadMs;
  return [
    `${String(f.inFlight).padStart(3)} in flight, ${f.scenarios} scenarios, ${
      (f.wallMs / 1000).toFixed(1)
    } s:`,
    `  overhead p50 ${o.p50} ms, p90 ${o.p90} ms (lab up p50 ${o.labUp.p50}, ready ${o.targetReady.p50}, teardown ${o.teardown.p50})`,
    `  event-loop lateness p99 ${f.latenessMs.p99} ms, peak ${f.latenessMs.peak} ms; ${f.reruns} reruns`,
    ...(f.faultLagMs
      ? [
        `  fault apply→effect p50 ${f.faultLagMs.p50} ms, p99 ${f.faultLagMs.p99} ms (${f.faultLagMs.count}; p99 by source: ${
          Object.entries(f.faultLagMs.p99BySource).map(([s, ms]) => `${s} ${ms} ms`).join(", ")
        })`,
      ]
      : []),
    ...(f.rssPerLabKb !== undefined
      ? [
        `  memory per lab at the most labs in flight, server excluded: RSS ${
          (f.rssPerLabKb / 1024).toFixed(1)
        } MB, PSS ${((f.pssPerLabKb ?? 0) / 1024).toFixed(1)} MB`,
      ]
      : []),
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      levels: { type: "string", default: "1,32,128" },
      out: { type: "string", default: "clientdown-reports/bench.json" },
    },
    strict: true,
  });
  const levels = values.levels.split(",").map(Number);
  if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    console.error(`bench: --levels must be whole numbers from 1 to 1000 (got "${values.levels}")`);
    Deno.exit(2);
  }
  const suites = await loadSuites();
  const mix = MIX.flatMap((id) => selectScenarios(suites, id));
  const runs = [];
  for (const inFlight of levels) {
    console.error(`bench: ${inFlight} in flight …`);
    const run = await runLevel(mix, inFlight);
    console.log(line(run.figures));
    runs.push(run);
  }
  const wheel = timerWheel(await runningKernelHz());
  const differences = runs.length > 1
    ? compareLevels(runs[0]!.results, runs.at(-1)!.results, wheel)
    : [];
  console.log(
    differences.length
      ? `Lowest vs highest level: ${differences.length} difference(s):\n  ${
        differences.join("\n  ")
      }`
      : "Lowest vs highest level: the same verdicts, release times within their tolerance",
  );
  await Deno.mkdir(new URL(".", `file://${Deno.cwd()}/${values.out}`), { recursive: true });
  await Deno.writeTextFile(
    values.out,
    JSON.stringify(
      {
        target: TARGET,
        mix: MIX,
        deadlineMs: DEADLINE_MS,
        levels: runs.map((r) => r.figures),
        differences,
      },
      null,
      2,
    ) + "\n",
  );
  console.error(`bench: written to ${values.out}`);
}
