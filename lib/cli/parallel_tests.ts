/**
 * Runs test files side by side, each in a `deno test` process of its own, after one type check
 * of them all. Most tests wait (on a server's timeout, a lab, a child process) rather than
 * compute, so several files at once fit a small machine. A process per file, not `deno test
 * --parallel` (workers of one process): each file's labs then carry a run id of their own
 * (names.ts), and nothing a test sets for its process (an environment variable, a signal
 * listener) reaches another file.
 *
 * Each file's output is printed whole when it ends, then the totals and the files that failed.
 * Exits 0 when every file passed, 1 otherwise (or the type check's code); on SIGINT, SIGTERM or
 * SIGHUP it starts no new file, passes the signal to the running ones and exits with the
 * signal's code.
 *
 * Arguments that name an existing file or directory choose the test files (default: the whole
 * repository, as `deno test` finds them); any other argument goes to every `deno test` (give a
 * flag's value with `=`: `--filter=vanish`). `DENO_JOBS` sets how many files run at once.
 * Permissions: --allow-all.
 *
 * Usage: `deno run --allow-all lib/cli/parallel_tests.ts [paths...] [deno test flags...]`
 *
 * @module
 */

import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { type Child, spawn } from "../process/spawn.ts";
import { Gate } from "../runner/pool.ts";
import { Interrupt } from "./interrupt.ts";
import { REPO_ROOT } from "./repo_paths.ts";

/**
 * Files at once unless `DENO_JOBS` says otherwise. Measured on 2 cores: the target tests
 * spend most of their time waiting on a server, so 8 files keep the cores busy without
 * starving any test of the CPU its bounds allow for.
 */
export const DEFAULT_JOBS = 8;

/**
 * A file still running after this long is ended and counted as failed: a test that waits for
 * something that never comes must not hold the whole run. The slowest file takes about a
 * minute here when 8 run at once.
 */
export const FILE_TIMEOUT_MS = 10 * 60_000;

/** Test file names `deno test` picks up by default: `x_test.ts`, `x.test.ts`, `test.ts`. */
const TEST_FILE = /^(?:.*[_.])?test\.(?:ts|tsx|mts|js|mjs|jsx)$/;

/**
 * Folders whose files go first, the longest first: the target tests wait on real servers'
 * timeouts (up to a minute and a half a file), the report tests render charts (the most CPU),
 * the CLI tests run whole certifications. Started last, any of them would end the run alone.
 */
const SLOW_FIRST = ["targets/", "lib/report/", "lib/cli/"];

/** The command line split into the paths that choose files and the flags for `deno test`. */
export function splitArgs(
  args: readonly string[],
  exists: (path: string) => boolean,
): { paths: string[]; flags: string[] } {
  const paths = args.filter((a) => !a.startsWith("-") && exists(a));
  return { paths, flags: args.filter((a) => !paths.includes(a)) };
}

/**
 * The test files under `roots` (files or directories), relative to `base`, slow folders first,
 * each group in path order. Skips `.git`, `node_modules` and the `excluded` paths (deno.json's
 * `exclude`), as `deno test` does.
 */
export function testFiles(
  roots: readonly string[],
  base: string,
  excluded: readonly string[],
): string[] {
  const skip = new Set(excluded.map((e) => resolve(base, e)));
  const found = new Set<string>();
  const walk = (path: string, named: boolean) => {
    if (skip.has(path)) return;
    const info = Deno.statSync(path);
    if (info.isFile) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      if (named || TEST_FILE.test(name)) found.add(relative(base, path));
      return;
    }
    for (const entry of Deno.readDirSync(path)) {
      if (entry.name === ".git" || entry.name === "node_modules") continue;
      walk(join(path, entry.name), false);
    }
  };
  for (const root of roots) walk(resolve(base, root), true);
  const rank = (file: string) => {
    const at = SLOW_FIRST.findIndex((folder) => file.startsWith(folder));
    return at < 0 ? SLOW_FIRST.length : at;
  };
  return [...found].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The counts of `deno test`'s closing line (`ok | 3 passed | 0 failed | 1 ignored (2s)`). */
export function testCounts(output: string): { passed: number; failed: number; ignored: number } {
  const line = output.match(/^(?:ok|FAILED) \|.*$/gm)?.at(-1) ?? "";
  const count = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(line)?.[1] ?? 0);
  return { passed: count("passed"), failed: count("failed"), ignored: count("ignored") };
}

/** One file's run. */
interface FileRun {
  file: string;
  ok: boolean;
  ms: number;
  counts: ReturnType<typeof testCounts>;
}

function jobsAsked(): number {
  const asked = Deno.env.get("DENO_JOBS");
  if (asked === undefined) return DEFAULT_JOBS;
  if (!/^[1-9]\d*$/.test(asked)) {
    console.error(`parallel_tests: DENO_JOBS must be a positive integer, got "${asked}"`);
    Deno.exit(2);
  }
  return Number(asked);
}

// The files' processes under way, to pass a stop signal on.
const running = new Set<Child>();

async function runFile(
  file: string,
  flags: readonly string[],
  runStarted: number,
): Promise<FileRun> {
  const started = performance.now();
  // One pipe for both streams keeps a test's own lines in place among deno test's.
  const argv = [Deno.execPath(), "test", "--allow-all", "--no-check", ...flags, file];
  const child = spawn(["sh", "-c", 'exec "$0" "$@" 2>&1', ...argv], {
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
  });
  running.add(child);
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    child.end();
  }, FILE_TIMEOUT_MS);
  const output = await new Response(child.process.stdout).text();
  const status = await child.status;
  clearTimeout(timer);
  running.delete(child);
  const ms = performance.now() - started;
  const from = (started - runStarted) / 1000;
  console.log(
    `\n=== ${file} (${(ms / 1000).toFixed(1)} s, from +${from.toFixed(0)} s)\n${output.trimEnd()}`,
  );
  if (late) console.log(`parallel_tests: ${file} ended after ${FILE_TIMEOUT_MS / 60_000} min`);
  return { file, ok: status.success && !late, ms, counts: testCounts(output) };
}

if (import.meta.main) {
  const started = performance.now();
  const jobs = jobsAsked();
  const { paths, flags } = splitArgs(Deno.args, existsSync);
  const config = JSON.parse(Deno.readTextFileSync(join(REPO_ROOT, "deno.json")));
  const roots = paths.length ? paths.map((p) => resolve(p)) : [REPO_ROOT];
  const files = testFiles(roots, REPO_ROOT, config.exclude ?? []);
  const check = await spawn(
    [Deno.execPath(), "test", "--allow-all", "--no-run", ...flags, ...files],
    { cwd: REPO_ROOT, stdout: "inherit", stderr: "inherit" },
  ).status;
  if (!check.success) Deno.exit(check.code);

  const interrupt = new Interrupt({ log: (line) => console.error(`parallel_tests: ${line}`) });
  interrupt.signal.addEventListener("abort", () => {
    for (const child of running) child.signal(interrupt.received ?? "SIGTERM");
  });
  interrupt.install();
  const gate = new Gate(jobs);
  const runs = await Promise.all(
    files.map((file) =>
      gate.through(async () => interrupt.received ? undefined : await runFile(file, flags, started))
    ),
  );
  interrupt.dispose();
  const done = runs.filter((r) => r !== undefined);
  const sum = (key: "passed" | "failed" | "ignored") =>
    done.reduce((total, r) => total + r.counts[key], 0);
  const failed = done.filter((r) => !r.ok);
  console.log(
    `\n${failed.length ? "FAILED" : "ok"} | ${done.length} of ${files.length} files, ` +
      `${jobs} at once | ${sum("passed")} passed | ${sum("failed")} failed | ` +
      `${sum("ignored")} ignored (${((performance.now() - started) / 1000).toFixed(0)} s)`,
  );
  for (const r of failed) console.log(`  failed: ${r.file}`);
  Deno.exit(interrupt.exitCode ?? (failed.length ? 1 : 0));
}
