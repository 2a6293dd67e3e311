/**
 * The clientdown command line: `certify`, `suite`, `list`, `report`, `doctor`. Library
 * first: `main()` parses the arguments, returns the exit code and takes the runner and the
 * lab preparation as dependencies, so it runs in tests without a lab.
 *
 * Every input (flags, ids, suite and target files) is checked before anything touches the
 * machine: a mistake is exit 2 and no lab is made. `list` and `report` need neither root nor a
 * lab (permissions: --allow-read, --allow-write for `report`, --allow-env); `certify` and
 * `suite` need root and --allow-all.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { resolve } from "node:path";
import { sweepStaleLabs } from "../lab/sweep.ts";
import { tearDownAll } from "../lab/lab.ts";
import type { Results } from "../results/schema.ts";
import { certifyTarget, START_SLOTS } from "../runner/certify_target.ts";
import { Gate } from "../runner/pool.ts";
import { timePlan, TimePlanError } from "../runner/time_plan.ts";
import type { Scenario } from "../suite/define_suite.ts";
import { endAll, onPath } from "../process/spawn.ts";
import { ensureLabPackages, isRoot, SetupError } from "../setup/ensure_packages.ts";
import { durationMsOrUndefined } from "../time/duration.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import { ensureInstalled } from "../target/ensure_installed.ts";
import { briefly } from "./_user_modules.ts";
import { Interrupt } from "./interrupt.ts";
import { loadSuites, selectScenarios } from "./load_suites.ts";
import { builtInTargetIds, checkVersions, loadTarget, REFERENCE_TARGETS } from "./load_target.ts";
import { Progress, resultLine } from "./progress.ts";
import { displayPath } from "./repo_paths.ts";
import { diffPaths, mergeInputs } from "./merge_diff.ts";
import { rebuildReports } from "./report_files.ts";
import { announceSaved, prepareOutputs, saveResults } from "./save_results.ts";
import { parseShard, type Shard, shardPairs, suiteFingerprint } from "../runner/shard.ts";
import { EXIT, UsageError } from "./usage_error.ts";

/** Runs scenarios against one target: the runner's `certifyTarget`, or a fake in tests. */
export type Certify = typeof certifyTarget;

/** What main() works with; every field has a default, tests replace some. */
export interface MainDeps {
  /** The runner (default: certifyTarget of lib/runner/certify_target.ts). */
  certify?: Certify;
  /** Makes the machine ready for labs (default: packages, sweep of stale labs, signal teardown). */
  prepareLab?: (log: (line: string) => void, targets: readonly TargetDefinition[]) => Promise<void>;
  /**
   * Turns SIGINT, SIGTERM, SIGHUP (and a parent's end) into the run's AbortSignal; installed
   * for the run's duration (default: an installed Interrupt of lib/cli/interrupt.ts).
   */
  interrupts?: (log: (line: string) => void) => Interrupt;
  /** Removes whatever is left of an interrupted run: labs, children (default: all of them). */
  cleanUp?: () => Promise<void>;
  /** The `doctor` command; returns its exit code (default: lib/cli/doctor.ts). */
  doctor?: () => Promise<number>;
  /** Where the suite files are (default: `suites/`). */
  suitesDir?: string;
  /** Where the built-in target files are (default: `targets/`). */
  targetsDir?: string;
  /** Writes to standard output. */
  stdout?: (text: string) => void;
  /** Writes to standard error: messages and progress. */
  stderr?: (text: string) => void;
  /** Whether stderr is a terminal: live progress and colour (default: asks Deno). */
  terminal?: boolean;
}

/**
 * Scenarios run at once by default: 32 per core. A scenario spends nearly all its time
 * waiting for the server to act (up to --deadline), not computing; CPU is busy only while a
 * lab comes up, so memory (a target and a client agent per scenario) bounds it, not cores.
 */
export const DEFAULT_CONCURRENCY: number = 32 * navigator.hardwareConcurrency;
/** How long a scenario waits for the server to act, by default. */
const DEFAULT_DEADLINE = "60s";

const RUN_FLAGS = {
  deadline: { type: "string", default: DEFAULT_DEADLINE },
  concurrency: { type: "string", default: String(DEFAULT_CONCURRENCY) },
} as const satisfies ParseArgsOptionsConfig;

const USAGE = `clientdown: how TCP servers behave when their client goes down

Usage: clientdown <command> [options]      (in the repository: deno task <command> ...)

Commands:
  certify [TARGET...]          every suite against each target; writes the reports
  suite ID --target TARGET     one suite ("vanish") or one scenario ("vanish/idle")
  list                         suites, scenarios and targets
  report                       rebuilds the Markdown reports from their JSON, no lab
  merge DIR... --out DIR       combines the results of shards (certify --shard) into one run's
  diff OLD NEW                 verdicts and key figures that changed; exit 1 when one got worse
  doctor                       what the lab can do on this machine

TARGET is a built-in target id (see "list") or the path of a target file (defineTarget).
Exit codes: 0 no MUST failed, 1 a MUST failed, 2 usage or input error, 3 harness error
(or the results could not be written where asked: they are saved elsewhere, and named).
"clientdown <command> --help" shows a command's options.
`;

const RUN_OPTIONS_HELP =
  `  --deadline DURATION   how long each scenario waits for the server to act, e.g. 90s, 5m
                        (default ${DEFAULT_DEADLINE}; a requirement's budget may be longer: then the
                        server's socket options predict the outcome, labelled as a prediction)
  --concurrency N       scenarios at once, over all targets (default ${DEFAULT_CONCURRENCY}: 32 per
                        core, as scenarios mostly wait)`;

const HELP: Record<string, string> = {
  certify: `Usage: clientdown certify [TARGET...] [options]

Runs every suite against each TARGET (default: ${REFERENCE_TARGETS.join(" ")}) and writes
OUT/<target>.json, OUT/<target>.md and the index OUT/README.md. Needs root.

TARGET is a built-in target id or the path of a target file (defineTarget).

Options:
${RUN_OPTIONS_HELP}
  --out DIR             reports directory (default reports); also writes index.json
  --junit FILE          also write JUnit XML of this run (one testsuite per target)
  --shard K/N           run only the K-th of N shares of the (target × scenario) pairs, for
                        running one certification on N machines; "merge" puts them together
  --only ID             run one suite ("churn") or one scenario ("vanish/idle") instead of
                        every suite, against every TARGET
`,
  suite: `Usage: clientdown suite ID --target TARGET [options]

Runs one suite ("vanish") or one scenario ("vanish/idle") against TARGET and prints a
summary. Needs root.

Options:
  --target TARGET       a built-in target id or the path of a target file (required)
${RUN_OPTIONS_HELP}
  --json                print only the results JSON on stdout (progress stays on stderr)
  --junit FILE          also write JUnit XML of the results
`,
  list: `Usage: clientdown list

Lists the suites, their scenarios (id, level, title) and the built-in targets.
`,
  report: `Usage: clientdown report [--out DIR]

Rebuilds every Markdown report in DIR (default reports) from the JSON results there, and
the index README.md and index.json. Needs no lab and no root.
`,
  merge: `Usage: clientdown merge DIR... --out DIR [--junit FILE]

Combines the results of "certify --shard K/N" runs (each DIR one shard's --out, from any
machine; results files work too) into the results, Markdown reports and index that one
machine would have written in --out. Refuses shards of different clientdown versions,
suites or deadlines, a pair given twice and a pair no shard has. Needs no lab and no root.
Exit code as certify's over the merged results.

Options:
  --out DIR             reports directory to write (required)
  --junit FILE          also write JUnit XML of the merged results
`,
  diff: `Usage: clientdown diff OLD NEW

Compares two runs (results files, or reports directories matched by target id): prints, per
target and scenario, the verdicts and key figures that changed (times when they moved by more
than 25 % and 500 ms). Exit 1 when a verdict got worse (pass → warn or fail, warn → fail),
else 0. Needs no lab and no root.
`,
  doctor: `Usage: clientdown doctor

Prints what the lab can do on this machine, each with yes / no and the reason.
`,
};

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  terminal: boolean;
}

function writeAll(stream: { writeSync(p: Uint8Array): number }): (text: string) => void {
  return (text) => {
    const bytes = new TextEncoder().encode(text);
    try {
      for (let written = 0; written < bytes.length;) {
        written += stream.writeSync(bytes.subarray(written));
      }
    } catch (error) {
      // Nobody reads any more (a cancelled CI job's pipe): the run still cleans up and exits.
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    }
  };
}

function parse<T extends ParseArgsOptionsConfig>(command: string, args: string[], options: T) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const text = (error as Error).message.split(/\.( |$)|\n/)[0] ?? "";
    throw new UsageError(
      `${text.replaceAll("'", '"')} (see "clientdown ${command} --help")`,
    );
  }
}

/** Refuses, before any lab, a deadline or a scenario's times the runner cannot honour. */
function checkTimePlans(scenarios: readonly Scenario[], deadlineMs: number): void {
  try {
    for (const scenario of scenarios) timePlan(scenario, deadlineMs);
  } catch (error) {
    if (error instanceof TimePlanError) throw new UsageError(error.message);
    throw error;
  }
}

function runOptions(values: { deadline: string; concurrency: string }): {
  deadlineMs: number;
  concurrency: number;
} {
  const deadlineMs = durationMsOrUndefined(values.deadline) ?? 0;
  if (!(deadlineMs > 0)) {
    throw new UsageError(
      `Invalid --deadline "${values.deadline}": expected a duration such as "60s" or "5m"`,
    );
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UsageError(
      `Invalid --concurrency "${values.concurrency}": expected a whole number of at least 1`,
    );
  }
  return { deadlineMs, concurrency };
}

/** 3 when any scenario is a harness error, else 1 when any MUST failed, else 0. */
export function exitCodeOf(all: readonly Results[]): number {
  const verdicts = new Set(all.flatMap((r) => r.scenarios.map((s) => s.verdict)));
  if (verdicts.has("error")) return EXIT.harness;
  return verdicts.has("fail") ? EXIT.mustFailed : EXIT.ok;
}

async function sweep(log: (line: string) => void): Promise<void> {
  const swept = await sweepStaleLabs();
  if (swept.runs.length) {
    log(`Removed stale labs of runs ${swept.runs.join(", ")} (their owner process is gone)`);
  }
}

async function defaultPrepareLab(
  log: (line: string) => void,
  targets: readonly TargetDefinition[],
): Promise<void> {
  await ensureLabPackages(log);
  for (const target of targets) await ensureInstalled(target, log);
  await sweep(log);
}

function defaultInterrupts(log: (line: string) => void): Interrupt {
  return new Interrupt({ log }).install();
}

// The runner's own `finally` blocks tear each scenario down; this makes sure nothing of the
// run is left (a lab still being built, a child not yet ended) before the command exits.
async function defaultCleanUp(): Promise<void> {
  await tearDownAll();
  await endAll(200);
}

/**
 * After an interrupted run: every trace of it is removed, then one line says what finished
 * and where its results went (`where`, e.g. "written"). Returns the exit code of the signal.
 */
async function endInterrupted(
  interrupt: Interrupt,
  all: readonly Results[],
  planned: number,
  where: string | undefined,
  deps: MainDeps,
  io: Io,
): Promise<number> {
  await (deps.cleanUp ?? defaultCleanUp)();
  const finished = all.reduce(
    (n, r) =>
      n + (r.environment.interrupted?.finished ??
        r.scenarios.filter((s) => s.verdict !== "interrupted").length),
    0,
  );
  io.err(
    `Interrupted by ${interrupt.received}: ${finished} of ${planned} scenarios finished` +
      `${where ? ` (their results are ${where})` : ""}; nothing of the run is left\n`,
  );
  return interrupt.exitCode ?? EXIT.harness;
}

/** Commands that make no lab still clear away labs a killed run left, where they can. */
async function sweepIfAble(log: (line: string) => void): Promise<void> {
  if (isRoot() && onPath("ip")) await sweep(log);
}

// Loaded on use: no other command needs the doctor's probes.
async function defaultDoctor(): Promise<number> {
  const { doctor } = await import("./doctor.ts");
  return await doctor();
}

function progressFor(io: Io, total: number, showTarget: boolean): Progress {
  let columns = 100;
  if (io.terminal) {
    try {
      columns = Deno.consoleSize().columns;
    } catch {
      // a terminal of unknown size: keep the default width
    }
  }
  return new Progress({
    write: io.err,
    live: io.terminal,
    color: io.terminal && !Deno.env.get("NO_COLOR"),
    total,
    showTarget,
    columns,
  });
}

async function certifyCommand(args: string[], deps: MainDeps, io: Io): Promise<number> {
  const { values, positionals } = parse("certify", args, {
    ...RUN_FLAGS,
    out: { type: "string", default: "reports" },
    junit: { type: "string" },
    shard: { type: "string" },
    only: { type: "string" },
  });
  if (values.help) return help(io, "certify");
  const { deadlineMs, concurrency } = runOptions(values);
  let shard: Shard | undefined;
  try {
    shard = values.shard === undefined ? undefined : parseShard(values.shard);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const specs = positionals.length ? positionals : REFERENCE_TARGETS;
  const suites = await loadSuites(deps.suitesDir);
  const scenarios = values.only === undefined
    ? suites.flatMap((s) => s.scenarios)
    : selectScenarios(suites, values.only);
  checkTimePlans(scenarios, deadlineMs);
  const targets: TargetDefinition[] = [];
  for (const spec of specs) {
    const target = await loadTarget(spec, deps.targetsDir);
    if (targets.some((t) => t.id === target.id)) {
      throw new UsageError(`Target "${target.id}" is given twice`);
    }
    targets.push(target);
  }
  const outputs = {
    dir: resolve(values.out),
    ...(values.junit === undefined ? {} : { junit: resolve(values.junit) }),
  };
  await prepareOutputs(outputs, targets.map((t) => t.id));
  const suite = await suiteFingerprint(scenarios);
  const picked = shard ? shardPairs(targets, scenarios, shard) : undefined;
  const plan = shard && {
    ...shard,
    targets: targets.map((t) => t.id).sort(),
    scenarios: scenarios.map((s) => s.id),
  };

  await (deps.prepareLab ?? defaultPrepareLab)((line) => io.err(`${line}\n`), targets);
  await checkVersions(targets); // once installed, still before any lab
  const certify = deps.certify ?? certifyTarget;
  // Targets run side by side and draw from one pool of running scenarios, so the whole run
  // waits in parallel however its scenarios are spread over targets.
  const runGate = new Gate(concurrency);
  const planned = picked
    ? [...picked.values()].reduce((n, list) => n + list.length, 0)
    : scenarios.length * targets.length;
  const progress = progressFor(io, planned, targets.length > 1);
  const started = performance.now();
  const interrupt = (deps.interrupts ?? defaultInterrupts)((line) => io.err(`${line}\n`));
  try {
    const startGate = new Gate(START_SLOTS);
    const settled = await Promise.allSettled(targets.map(async (target) => {
      const results = await certify(target, picked?.get(target.id) ?? scenarios, {
        deadlineMs,
        concurrency,
        onProgress: progress.onEvent,
        startGate,
        runGate,
        signal: interrupt.signal,
      });
      results.environment.suite = suite;
      if (plan) results.environment.shard = plan;
      return results;
    }));
    const done = settled.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
    progress.finish(done, performance.now() - started);
    // Stopped before any scenario of it finished, a target's results would only replace its
    // last report with nothing.
    const kept = interrupt.received
      ? done.filter((r) => r.scenarios.some((s) => s.verdict !== "interrupted"))
      : done;
    const saved = kept.length ? await saveResults(kept, outputs) : { written: [] };
    const unsaved = announceSaved(saved, io.out, io.err);
    const failed = settled.find((s) => s.status === "rejected");
    if (interrupt.received) {
      if (failed) io.err(`clientdown: ${briefly(failed.reason)}\n`);
      const where = kept.length ? "written" : undefined;
      return await endInterrupted(interrupt, done, planned, where, deps, io);
    }
    if (failed) throw failed.reason;
    return unsaved ?? exitCodeOf(done);
  } finally {
    interrupt.dispose();
    progress.stop();
  }
}

function humanSummary(results: Results): string {
  const lines = [
    `${results.target.title ?? results.target.id} (${results.target.id} ${results.target.version})`,
  ];
  for (const s of results.scenarios) {
    lines.push(resultLine(s, { color: false }), `    ${s.level}: ${s.requirement}`);
    for (const e of s.expectations) {
      // A prediction's words say "predicted:" themselves.
      lines.push(`    ${e.verdict.padEnd(12)} ${e.expectation}: ${e.measured}`);
    }
    if (s.notes) lines.push(`    ${s.notes}`);
    if (s.recommendation) lines.push(`    Recommendation: ${s.recommendation}`);
  }
  return `${lines.join("\n")}\n`;
}

async function suiteCommand(args: string[], deps: MainDeps, io: Io): Promise<number> {
  const { values, positionals } = parse("suite", args, {
    ...RUN_FLAGS,
    target: { type: "string" },
    json: { type: "boolean", default: false },
    junit: { type: "string" },
  });
  if (values.help) return help(io, "suite");
  const { deadlineMs, concurrency } = runOptions(values);
  if (positionals.length !== 1) {
    throw new UsageError(
      `Expected one suite or scenario id, got ${positionals.length} (see "clientdown suite --help")`,
    );
  }
  const scenarios = selectScenarios(await loadSuites(deps.suitesDir), positionals[0] ?? "");
  checkTimePlans(scenarios, deadlineMs);
  if (values.target === undefined) {
    throw new UsageError(`Missing --target TARGET: a built-in target id or a target file`);
  }
  const target = await loadTarget(values.target, deps.targetsDir);
  const outputs = values.junit === undefined ? undefined : { junit: resolve(values.junit) };
  if (outputs) await prepareOutputs(outputs);

  await (deps.prepareLab ?? defaultPrepareLab)((line) => io.err(`${line}\n`), [target]);
  await checkVersions([target]); // once installed, still before any lab
  const progress = progressFor(io, scenarios.length, false);
  const started = performance.now();
  const interrupt = (deps.interrupts ?? defaultInterrupts)((line) => io.err(`${line}\n`));
  try {
    const results = await (deps.certify ?? certifyTarget)(target, scenarios, {
      deadlineMs,
      concurrency,
      onProgress: progress.onEvent,
      signal: interrupt.signal,
    }).catch(async (error) => {
      if (interrupt.received) {
        await endInterrupted(interrupt, [], scenarios.length, undefined, deps, io);
      }
      throw error;
    });
    progress.finish([results], performance.now() - started);
    io.out(values.json ? `${JSON.stringify(results, null, 2)}\n` : humanSummary(results));
    // With --json the results are on stdout already: "Wrote" goes to stderr, not into them.
    const unsaved = outputs
      ? announceSaved(await saveResults([results], outputs), values.json ? io.err : io.out, io.err)
      : null;
    if (interrupt.received) {
      const where = values.json ? "on standard output" : outputs ? "written" : "above";
      return await endInterrupted(interrupt, [results], scenarios.length, where, deps, io);
    }
    return unsaved ?? exitCodeOf([results]);
  } finally {
    interrupt.dispose();
    progress.stop();
  }
}

async function listCommand(args: string[], deps: MainDeps, io: Io): Promise<number> {
  const { values, positionals } = parse("list", args, {});
  if (values.help) return help(io, "list");
  if (positionals.length) throw new UsageError(`"list" takes no arguments`);
  const suites = await loadSuites(deps.suitesDir);
  const lines: string[] = [];
  const width = Math.max(...suites.flatMap((s) => s.scenarios.map((x) => x.id.length)));
  for (const suite of suites) {
    lines.push(`${suite.id}: ${suite.title}`);
    for (const s of suite.scenarios) {
      lines.push(`  ${s.id.padEnd(width)}  ${s.level.padEnd(6)}  ${s.title}`);
    }
  }
  const count = suites.reduce((n, s) => n + s.scenarios.length, 0);
  lines.push(`${count} scenarios in ${suites.length} suites`, "", "Targets:");
  for (const id of builtInTargetIds(deps.targetsDir)) {
    const target = await loadTarget(id, deps.targetsDir);
    const reference = REFERENCE_TARGETS.includes(id) ? " (reference, default of certify)" : "";
    lines.push(`  ${id}  ${target.title}${reference}`);
  }
  io.out(`${lines.join("\n")}\n`);
  return EXIT.ok;
}

async function reportCommand(args: string[], _deps: MainDeps, io: Io): Promise<number> {
  const { values, positionals } = parse("report", args, {
    out: { type: "string", default: "reports" },
  });
  if (values.help) return help(io, "report");
  if (positionals.length) throw new UsageError(`"report" takes no arguments but --out`);
  const dir = resolve(values.out);
  let written: string[];
  try {
    written = await rebuildReports(dir);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Every file is replaced whole or not at all, and the results files are only read.
    io.err(
      `clientdown: Could not write the reports in "${displayPath(dir)}": ${
        briefly(error)
      }; the results files there are untouched\n`,
    );
    return EXIT.harness;
  }
  io.out(`Wrote ${written.map(displayPath).join(", ")}\n`);
  return EXIT.ok;
}

async function mergeCommand(args: string[], _deps: MainDeps, io: Io): Promise<number> {
  const { values, positionals } = parse("merge", args, {
    out: { type: "string" },
    junit: { type: "string" },
  });
  if (values.help) return help(io, "merge");
  if (!positionals.length) {
    throw new UsageError(`Expected one or more shard directories (see "clientdown merge --help")`);
  }
  if (values.out === undefined) {
    throw new UsageError(`Missing --out DIR: where the merged reports go`);
  }
  const merged = await mergeInputs(positionals);
  const outputs = {
    dir: resolve(values.out),
    ...(values.junit === undefined ? {} : { junit: resolve(values.junit) }),
  };
  await prepareOutputs(outputs, merged.map((r) => r.target.id));
  const unsaved = announceSaved(await saveResults(merged, outputs), io.out, io.err);
  return unsaved ?? exitCodeOf(merged);
}

async function diffCommand(args: string[], _deps: MainDeps, io: Io): Promise<number> {
  const { values, positionals } = parse("diff", args, {});
  if (values.help) return help(io, "diff");
  if (positionals.length !== 2) {
    throw new UsageError(
      `Expected OLD and NEW (results files or directories), got ${positionals.length} arguments`,
    );
  }
  const { text, worse } = await diffPaths(positionals[0]!, positionals[1]!);
  io.out(text);
  return worse ? EXIT.mustFailed : EXIT.ok;
}

async function doctorCommand(args: string[], deps: MainDeps, io: Io): Promise<number> {
  const { values, positionals } = parse("doctor", args, {});
  if (values.help) return help(io, "doctor");
  if (positionals.length) throw new UsageError(`"doctor" takes no arguments`);
  return await (deps.doctor ?? defaultDoctor)();
}

function help(io: Io, command: string): number {
  io.out(HELP[command] ?? USAGE);
  return EXIT.ok;
}

const COMMANDS: Record<string, (args: string[], deps: MainDeps, io: Io) => Promise<number>> = {
  certify: certifyCommand,
  suite: suiteCommand,
  list: listCommand,
  report: reportCommand,
  merge: mergeCommand,
  diff: diffCommand,
  doctor: doctorCommand,
};

/**
 * Runs the command line and returns its exit code (see EXIT); never throws.
 *
 * @example
 * ```ts ignore
 * import { main } from "./main.ts";
 * Deno.exit(await main(["suite", "vanish/idle", "--target", "ref-hardened"]));
 * ```
 */
export async function main(args: string[], deps: MainDeps = {}): Promise<number> {
  const io: Io = {
    out: deps.stdout ?? writeAll(Deno.stdout),
    err: deps.stderr ?? writeAll(Deno.stderr),
    terminal: deps.terminal ?? Deno.stderr.isTerminal(),
  };
  const [command, ...rest] = args;
  if (command === "--help" || command === "-h" || command === "help") {
    return help(io, rest[0] ?? "");
  }
  const run = command === undefined ? undefined : COMMANDS[command];
  try {
    if (!run) {
      const known = Object.keys(COMMANDS).join(", ");
      throw new UsageError(
        command === undefined
          ? `Missing command: one of ${known}\n\n${USAGE}`
          : `Unknown command "${command}": expected one of ${known} (see "clientdown --help")`,
      );
    }
    if (command !== "certify" && command !== "suite") {
      await sweepIfAble((line) => io.err(`${line}\n`));
    }
    return await run(rest, deps, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`clientdown: ${error.message}\n`);
      return error.exitCode;
    }
    // Setup problems are expected on an unprepared machine: their message says what to do.
    const text = error instanceof SetupError
      ? error.message
      : (error as Error)?.stack ?? briefly(error);
    io.err(`clientdown: ${text}\n`);
    return EXIT.harness;
  }
}
