/**
 * The clientdown command line: `certify`, `suite`, `list`, `check`, `report`, `doctor`. Library
 * first: `main()` parses the arguments, returns the exit code and takes the runner and the
 * lab preparation as dependencies, so it runs in tests without a lab.
 *
 * Every input (flags, ids, suite and target files) is checked before anything touches the
 * machine: a mistake is exit 2 and no lab is made. `list` and `report` need neither root nor a
 * lab (permissions: --allow-read, --allow-write for `report`, --allow-env); `certify`,
 * `suite` and `check` need --allow-all, and root or user namespaces (an ordinary user's run
 * goes on in namespaces of its own: lib/lab/user_namespace.ts).
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { join, resolve } from "node:path";
import { sweepStaleLabs } from "../lab/sweep.ts";
import { tearDownAll } from "../lab/lab.ts";
import { runInUserNamespace, userNamespaceRefusal } from "../lab/user_namespace.ts";
import type { Results } from "../results/schema.ts";
import { certifyTarget, START_SLOTS } from "../runner/certify_target.ts";
import { checkTarget, checkTargetStarts, type TargetCheck } from "../runner/check_target.ts";
import { TargetStartError } from "../target/start_target.ts";
import { Gate } from "../runner/pool.ts";
import { timePlan, TimePlanError } from "../runner/time_plan.ts";
import type { Scenario } from "../suite/define_suite.ts";
import { endAll, onPath } from "../process/spawn.ts";
import { ensureLabPackages, SetupError } from "../setup/ensure_packages.ts";
import { canMakeLabs, isRoot } from "../process/privilege.ts";
import { durationMsOrUndefined, formatMs } from "../time/duration.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import { ensureInstalled } from "../target/ensure_installed.ts";
import { needsRoot } from "../target/rootless.ts";
import { briefly } from "./_user_modules.ts";
import { Interrupt, InterruptedBeforeRun, whileHoldingSignals } from "./interrupt.ts";
import { loadSuites, selectScenarios } from "./load_suites.ts";
import { builtInTargetIds, checkVersions, loadTarget, REFERENCE_TARGETS } from "./load_target.ts";
import { printable, Progress, resultLine, serverLastLines, wrapped } from "./progress.ts";
import { columns } from "./columns.ts";
import { editDistance, nearIds } from "../text/near_ids.ts";
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
  /** Tries a target in a lab for `check` (default: checkTarget of lib/runner/check_target.ts). */
  check?: (target: TargetDefinition) => Promise<TargetCheck>;
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
/**
 * Where `certify` writes without `--out`: a scratch directory (git-ignored), so a first run
 * never rewrites the published reports (`reports/`, written only when asked for by name).
 */
export const DEFAULT_OUT = "clientdown-reports";

const RUN_FLAGS = {
  deadline: { type: "string", default: DEFAULT_DEADLINE },
  concurrency: { type: "string", default: String(DEFAULT_CONCURRENCY) },
} as const satisfies ParseArgsOptionsConfig;

const USAGE = `clientdown: how TCP servers behave when their client goes down

Usage: clientdown <command> [options]
       (in the repository: deno task <command> ...)

Commands:
  certify [TARGET...]       every suite against each target; writes the reports
  suite ID --target TARGET  one suite ("vanish") or scenario ("vanish/idle")
  list                      suites, scenarios, targets and their variants
  check TARGET              tries a target: its server in a lab, each exchange
  report                    rebuilds the Markdown reports from their JSON
  merge DIR... --out DIR    combines shards' results (certify --shard)
  diff OLD NEW              what changed between two runs; exit 1 if worse
  doctor                    what the lab can do on this machine
  inspect PID|:PORT         what a running server does with a dead client

TARGET is a built-in target id (see "list") or the path of a target file.
Exit codes: 0 no MUST failed, 1 a MUST failed, 2 usage or input error,
3 harness error (or the results could not be written where asked: they
are saved elsewhere, and named).
"clientdown <command> --help" shows a command's options.
`;

const RUN_OPTIONS_HELP =
  `  --deadline DURATION   how long each scenario waits for the server to act,
                        e.g. 90s, 5m (default ${DEFAULT_DEADLINE}); a longer budget is
                        predicted from the server's socket options
  --concurrency N       scenarios at once, over all targets (default
                        ${DEFAULT_CONCURRENCY}: 32 per core, as scenarios mostly wait)`;

const HELP: Record<string, string> = {
  certify: `Usage: clientdown certify [TARGET...] [options]

Runs every suite against each TARGET (default: ${REFERENCE_TARGETS.join(" ")})
and writes OUT/<target>.json, OUT/<target>.md and the index OUT/README.md.
TARGET is a built-in target id or the path of a target file. Needs root, or
user namespaces for the targets "list" shows as rootless.

Options:
${RUN_OPTIONS_HELP}
  --out DIR             reports directory (default ${DEFAULT_OUT},
                        git-ignored; the published set only with
                        --out reports); also writes index.json
  --junit FILE          also write JUnit XML (one testsuite per target)
  --shard K/N           run only the K-th of N shares of the (target ×
                        scenario) pairs, one certification on N machines;
                        "merge" puts them together
  --only ID             run one suite ("churn") or one scenario
                        ("vanish/idle") instead of every suite
`,
  suite: `Usage: clientdown suite ID --target TARGET [options]

Runs one suite ("vanish") or one scenario ("vanish/idle") against TARGET
and prints its results. Needs root, or user namespaces for the targets
"list" shows as rootless.

Options:
  --target TARGET       a built-in target id or a target file (required)
${RUN_OPTIONS_HELP}
  --json                print only the results JSON on stdout
                        (progress stays on stderr)
  --junit FILE          also write JUnit XML of the results
`,
  list: `Usage: clientdown list

Lists the suites, their scenarios (id, level, title), the built-in targets
and their variants (TARGET@variant).
`,
  check: `Usage: clientdown check TARGET

Checks a target file (or a built-in target) in seconds: validates it,
starts its server once in a lab and makes each exchange of its protocol,
saying what came back; when one fails, what the server sent and its last
lines. Exit 0 when all went well, 2 when not. Needs root.
`,
  report: `Usage: clientdown report [--out DIR]

Rebuilds every Markdown report in DIR (default reports) from the JSON
results there, and the index README.md and index.json. No lab, no root.
`,
  merge: `Usage: clientdown merge DIR... --out DIR [--junit FILE]

Combines the results of "certify --shard K/N" runs (each DIR one shard's
--out, from any machine; results files work too) into the results,
Markdown reports and index one machine would have written in --out.
Refuses shards of different clientdown versions, suites or deadlines, a
pair given twice and a pair no shard has. No lab, no root. Exit code as
certify's over the merged results.

Options:
  --out DIR             reports directory to write (required)
  --junit FILE          also write JUnit XML of the merged results
`,
  diff: `Usage: clientdown diff OLD NEW

Compares two runs (results files, or reports directories matched by target
id): prints, per target and scenario, the verdicts and key figures that
changed (times when they moved by more than 25 % and 500 ms), worse
first, and warns when the runs' deadlines differ. Exit 1 when a verdict
got worse (pass → anything else, warn → fail), 2 when the runs share no
scenario, else 0. No lab, no root.
`,
  inspect: `Usage: clientdown inspect PID|:PORT [--json | --md]

Reads the live TCP sockets of process PID and its descendants (or of the process listening
on PORT in this network namespace), without a lab and without touching them: each socket is
duplicated (pidfd_getfd), read (getsockopt, TCP_INFO) and closed at once; nothing is set or
sent. Prints when the kernel alone would release a client that vanishes idle, vanishes
mid-response or stops reading, which option decides it, and the connections that look dead
now. Needs ptrace access to the process: root, CAP_SYS_PTRACE, or its user.

Options:
  --json                the inspection as JSON (lib/inspect/inspect.schema.json)
  --md                  a Markdown card
`,
  doctor: `Usage: clientdown doctor

Prints what the lab can do on this machine, each with yes / no and the
reason, then one line: whether the lab can run (exit 0) or not (exit 3),
and the command that installs what is missing.
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

/**
 * A value that starts with a dash given to an option that takes a value (`--concurrency -3`)
 * is that value: parseArgs would refuse it as "ambiguous", hiding what is wrong with it.
 */
function joinDashValues(args: readonly string[], options: ParseArgsOptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (name && options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** ` (did you mean "--deadline"?)` for a mistyped option close to a known one, else "". */
function didYouMean(unknown: string, options: ParseArgsOptionsConfig): string {
  const known = Object.keys(options).map((name) => `--${name}`);
  const [near] = nearIds(unknown, known, 1);
  const close = near !== undefined &&
    editDistance(unknown, near) <= Math.max(2, Math.floor(near.length / 3));
  return close ? ` (did you mean "${near}"?)` : "";
}

function parse<T extends ParseArgsOptionsConfig>(command: string, args: string[], options: T) {
  const all = { ...options, help: { type: "boolean", short: "h" } } as const;
  try {
    return parseArgs({
      args: joinDashValues(args, all),
      options: all,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const text = (error as Error).message.split(/\.( |$)|\n/)[0] ?? "";
    const unknown = /^Unknown option '(--[^']+)'/.exec(text)?.[1];
    throw new UsageError(
      `${text.replaceAll("'", '"')}${unknown ? didYouMean(unknown, all) : ""} (see ` +
        `"clientdown ${command} --help")`,
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
  tryStart = true,
): Promise<void> {
  for (const target of isRoot() ? [] : targets) {
    const why = needsRoot(target);
    if (why) throw new SetupError(`Target "${target.id}" cannot run without root: ${why}`, 2);
  }
  await ensureLabPackages(log);
  for (const target of targets) await ensureInstalled(target, log);
  await sweep(log);
  // A server that exits or never listens is the target's mistake: said once, before the run.
  if (!tryStart) return;
  // A Ctrl-C meanwhile lets the lab be removed first, then stops the command.
  await whileHoldingSignals(log, async (interrupt) => {
    for (const target of targets) {
      if (!interrupt.received) await checkTargetStarts(target);
    }
  });
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
    out: { type: "string", default: DEFAULT_OUT },
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
  const interrupt = (deps.interrupts ?? defaultInterrupts)((line) => progress.note(line));
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
    if (saved.written.length && !unsaved) {
      io.out(
        `The reports are in ${displayPath(outputs.dir)}/: the index is ${
          displayPath(join(outputs.dir, "README.md"))
        }\n`,
      );
    }
    const failed = settled.find((s) => s.status === "rejected");
    if (interrupt.received) {
      // A target that failed meanwhile failed of the interrupt: only its line is shown.
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
  const lines = wrapped(
    `${results.target.title ?? results.target.id} (${results.target.id} ${results.target.version})`,
    "",
  );
  // Every line fits RESULT_COLUMNS: longer text is wrapped under its line.
  for (const s of results.scenarios) {
    lines.push(resultLine(s, { color: false }));
    if (s.verdict === "interrupted") continue; // nothing was measured: its one line says so
    lines.push(...wrapped(`${s.level}: ${s.requirement}`, "    "));
    for (const e of s.expectations) {
      // A prediction's words say "predicted:" themselves.
      const [first = "", ...rest] = wrapped(`${e.expectation}: ${e.measured}`, " ".repeat(17));
      lines.push(`    ${e.verdict.padEnd(12)} ${first.trimStart()}`, ...rest);
    }
    if (s.notes) lines.push(...wrapped(printable(s.notes), "    "));
    lines.push(...serverLastLines(s));
    if (s.recommendation) lines.push(...wrapped(`Recommendation: ${s.recommendation}`, "    "));
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
  const interrupt = (deps.interrupts ?? defaultInterrupts)((line) => progress.note(line));
  try {
    const results = await (deps.certify ?? certifyTarget)(target, scenarios, {
      deadlineMs,
      concurrency,
      onProgress: progress.onEvent,
      signal: interrupt.signal,
    }).catch((error) => {
      // Interrupted, the runner's failure is the interrupt's doing: only its line is shown.
      if (interrupt.received) return undefined;
      throw error;
    });
    if (!results) return await endInterrupted(interrupt, [], scenarios.length, undefined, deps, io);
    progress.stop();
    io.out(values.json ? `${JSON.stringify(results, null, 2)}\n` : humanSummary(results));
    progress.finish([results], performance.now() - started); // the summary, last
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
  for (const suite of suites) {
    lines.push(`${suite.id}: ${suite.title}`);
    lines.push(...columns(suite.scenarios.map((s) => [s.id, s.level, s.title]), "  "));
  }
  const count = suites.reduce((n, s) => n + s.scenarios.length, 0);
  lines.push(
    `${count} scenarios in ${suites.length} suites`,
    "",
    "Targets and their variants (rootless: an ordinary user can certify it too; root: only root):",
  );
  // One row per target and per variant (TARGET@variant selects it); a column is a cell more.
  const rows: string[][] = [];
  for (const id of builtInTargetIds(deps.targetsDir)) {
    const target = await loadTarget(id, deps.targetsDir);
    const privilege = needsRoot(target) ? "root" : "rootless";
    rows.push([REFERENCE_TARGETS.includes(id) ? `${id} *` : id, privilege, target.title]);
    for (const [name, variant] of Object.entries(target.variants ?? {})) {
      rows.push([`  @${name}`, privilege, variant.title]);
    }
  }
  lines.push(...columns(rows, "  "), "* a reference server: what certify runs without a TARGET");
  io.out(`${lines.join("\n")}\n`);
  return EXIT.ok;
}

async function checkCommand(args: string[], deps: MainDeps, io: Io): Promise<number> {
  const { values, positionals } = parse("check", args, {});
  if (values.help) return help(io, "check");
  if (positionals.length !== 1) {
    throw new UsageError(
      `Expected one TARGET, got ${positionals.length} (see "clientdown check --help")`,
    );
  }
  const target = await loadTarget(positionals[0]!, deps.targetsDir);
  await (deps.prepareLab ?? ((log, targets) => defaultPrepareLab(log, targets, false)))(
    (line) => io.err(`${line}\n`),
    [target],
  );
  await checkVersions([target]);
  const seen = await whileHoldingSignals(
    (line) => io.err(`${line}\n`),
    () => (deps.check ?? checkTarget)(target),
  );
  const width = Math.max(...seen.exchanges.map((e) => e.exchange.length));
  const lines = [
    `${target.id}: valid; its server listened on port ${target.port} after ${
      formatMs(seen.readyMs)
    }`,
  ];
  for (const e of seen.exchanges) {
    lines.push(`${e.ok ? "ok  " : "FAIL"}  ${e.exchange.padEnd(width)}  ${printable(e.said)}`);
    if (e.received !== undefined) {
      lines.push(`      the server sent: ${printable(JSON.stringify(e.received))}`);
    }
  }
  if (seen.logTail) {
    lines.push(
      "The server's last lines:",
      ...seen.logTail.split("\n").map((l) => `  ${printable(l)}`),
    );
  }
  const ok = seen.exchanges.every((e) => e.ok);
  lines.push(ok ? "Every exchange worked" : "An exchange failed: see above");
  io.out(`${lines.join("\n")}\n`);
  return ok ? EXIT.ok : EXIT.usage;
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

async function inspectCommand(args: string[], deps: MainDeps, io: Io): Promise<number> {
  const { values, positionals } = parse("inspect", args, {
    json: { type: "boolean", default: false },
    md: { type: "boolean", default: false },
  });
  if (values.help) return help(io, "inspect");
  const { inspect, InspectRefused } = await import("../inspect/command.ts");
  // The built-in targets, so the card can name the one whose binary the process runs.
  const targets = await Promise.all(
    builtInTargetIds(deps.targetsDir).map((id) => loadTarget(id, deps.targetsDir)),
  );
  const binaries = targets.flatMap((t) =>
    t.install ? [{ id: t.id, binary: t.install.binary }] : []
  );
  try {
    io.out(await inspect(positionals, values, binaries));
  } catch (error) {
    if (error instanceof InspectRefused) throw new UsageError(error.message);
    throw error;
  }
  return EXIT.ok;
}

function help(io: Io, command: string): number {
  io.out(HELP[command] ?? USAGE);
  return EXIT.ok;
}

/** The commands that make labs (doctor's in a scratch namespace). */
const LAB_COMMANDS = ["certify", "suite", "doctor"];

const COMMANDS: Record<string, (args: string[], deps: MainDeps, io: Io) => Promise<number>> = {
  certify: certifyCommand,
  suite: suiteCommand,
  list: listCommand,
  check: checkCommand,
  report: reportCommand,
  merge: mergeCommand,
  diff: diffCommand,
  doctor: doctorCommand,
  inspect: inspectCommand,
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
    if (LAB_COMMANDS.includes(command ?? "") && !canMakeLabs()) {
      // An ordinary user's lab runs in a user namespace of its own; doctor says why it cannot.
      const refusal = await userNamespaceRefusal();
      if (refusal === undefined) return await runInUserNamespace(args);
      if (command !== "doctor") {
        throw new SetupError(`Labs without root cannot run here: ${refusal}`, 2);
      }
    }
    // inspect reads and never touches: not even a stale lab of a run long gone.
    if (command !== "certify" && command !== "suite" && command !== "inspect") {
      await sweepIfAble((line) => io.err(`${line}\n`));
    }
    return await run(rest, deps, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`clientdown: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof InterruptedBeforeRun) {
      io.err(`clientdown: ${error.message}\n`);
      return error.exitCode;
    }
    // The target's own mistake (its server exits or never listens), not the harness's.
    if (error instanceof TargetStartError) {
      io.err(`clientdown: ${error.message.split("\n").map(printable).join("\n")}\n`);
      return EXIT.usage;
    }
    // Setup problems are expected on an unprepared machine: their message says what to do.
    const text = error instanceof SetupError
      ? error.message
      : (error as Error)?.stack ?? briefly(error);
    io.err(`clientdown: ${text}\n`);
    return error instanceof SetupError ? error.exitCode : EXIT.harness;
  }
}
