// The run's lifecycle as users meet it, with the real CLI in real namespaces: Ctrl-C, a
// cancelled CI job, SIGKILL, runs side by side, doctor. Each test checks that nothing of ITS
// run is left (other runs may be live on this host at the same time) and what was reported.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  CliRun,
  cmdline,
  descendants,
  NOTHING,
  type Proc,
  processesInNamespacesOf,
  runOf,
  tracesOf,
} from "./testdata/cli_run.ts";
import { labDirsOf, namespacesOf } from "./testdata/cli_run.ts";
import { processStartTicks } from "../lab/names.ts";
import { onPath } from "../process/spawn.ts";

const FINISHED = /^(pass|info|skip|warn|inconclusive|fail|error) +[a-z0-9-]+\/\S+/m;
const CLI = ["deno", "run", "--allow-all", "mod.ts"];

async function tempDir(prefix: string): Promise<string> {
  return await Deno.makeTempDir({ prefix: `clientdown-${prefix}-` });
}

/** Descendants of the CLI and the processes in its namespaces, as far as seen till now. */
async function processesOf(cli: CliRun, id: string, seen: Proc[] = []): Promise<Proc[]> {
  const self = processStartTicks(cli.pid);
  return [
    ...seen,
    ...(self === undefined ? [] : [{ pid: cli.pid, ticks: self }]),
    ...descendants(cli.pid),
    ...await processesInNamespacesOf(id),
  ];
}

/** The results a run wrote, with the scenarios it had finished and those it stopped. */
function readResults(path: string) {
  const results = JSON.parse(Deno.readTextFileSync(path));
  const verdicts: string[] = results.scenarios.map((s: { verdict: string }) => s.verdict);
  return {
    results,
    finished: verdicts.filter((v) => v !== "interrupted").length,
    interrupted: verdicts.filter((v) => v === "interrupted").length,
  };
}

Deno.test({
  name:
    "Ctrl-C to the whole process group mid-certify: exit 130, finished results written, nothing left",
  sanitizeResources: false,
  async fn() {
    const [state, out] = [await tempDir("state"), await tempDir("out")];
    const cli = new CliRun(
      [...CLI, "certify", "ref-hardened", "--deadline", "10s", "--concurrency", "4", "--out", out],
      { CLIENTDOWN_STATE: state },
    );
    try {
      const id = runOf(cli.pid);
      // Mid-run: some scenarios finished, others running in their labs.
      await cli.until("a finished scenario", () => FINISHED.test(cli.stderr), 120_000);
      await cli.until("a running lab", async () => (await namespacesOf(id)).length > 0, 60_000);
      const procs = await processesOf(cli, id);
      const signalled = performance.now();
      Deno.kill(-cli.pid, "SIGINT"); // as a terminal does: every process of the group
      const status = await cli.done();
      const tookMs = cli.exitedAt - signalled;
      assert.equal(status.code, 130, cli.stderr);
      assert(tookMs < 15_000, `exited ${Math.round(tookMs)} ms after SIGINT`);
      assert.deepEqual(await tracesOf(id, state, procs), NOTHING);

      assert(existsSync(`${out}/ref-hardened.json`), `no results written:\n${cli.stderr}`);
      const { results, finished, interrupted } = readResults(`${out}/ref-hardened.json`);
      assert.deepEqual(results.environment.interrupted, {
        signal: "SIGINT",
        finished,
        planned: results.environment.interrupted.planned,
      });
      assert(finished >= 1 && interrupted >= 1, `${finished} finished, ${interrupted} stopped`);
      assert.match(
        cli.stderr,
        new RegExp(`^Interrupted by SIGINT: ${finished} of \\d+ scenarios finished`, "m"),
      );
      // A stopped scenario is never a server failure, and nothing of ref-hardened fails.
      assert.doesNotMatch(cli.stderr, /^(fail|error) /m);
      assert.match(Deno.readTextFileSync(`${out}/ref-hardened.md`), /interrupted/);
    } finally {
      if (!cli.exitedAt) Deno.kill(-cli.pid, "SIGKILL");
      await cli.done();
      await Promise.all([state, out].map((d) => Deno.remove(d, { recursive: true })));
    }
  },
});

Deno.test({
  name: "SIGTERM to the README's command (npx … task certify): the run stops cleanly anyway",
  ignore: !onPath("npx"),
  sanitizeResources: false,
  async fn() {
    const [state, out] = [await tempDir("state"), await tempDir("out")];
    // npx itself must be ready (it may download Deno the first time): ask it for a version first.
    const ready = new CliRun(["npx", "-y", "deno@2.9.6", "--version"]);
    assert.equal((await ready.done()).code, 0, ready.stderr);
    const npx = new CliRun(
      [
        "npx",
        "-y",
        "deno@2.9.6",
        "task",
        "certify",
        "ref-hardened",
        "--deadline",
        "10s",
        "--concurrency",
        "4",
        "--out",
        out,
      ],
      { CLIENTDOWN_STATE: state },
    );
    let runPid = 0;
    try {
      await npx.until("the run's process", () => {
        runPid = descendants(npx.pid).find((p) => cmdline(p.pid).includes("mod.ts certify"))
          ?.pid ?? 0;
        return runPid > 0;
      }, 60_000);
      const id = runOf(runPid);
      await npx.until("a finished scenario", () => FINISHED.test(npx.stderr), 120_000);
      await npx.until("a running lab", async () => (await namespacesOf(id)).length > 0, 60_000);
      const procs = await processesOf(npx, id);
      Deno.kill(npx.pid, "SIGTERM"); // what a CI runner does to the job's command
      await npx.done();
      // npx is gone at once and passes nothing on: the run notices its parent's end.
      const end = performance.now() + 20_000;
      while (stillThere(runPid) && performance.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert(!stillThere(runPid), `the run (pid "${runPid}") still runs:\n${npx.stderr}`);
      assert.deepEqual(await tracesOf(id, state, procs), NOTHING);
      assert.match(
        npx.stderr,
        /^Interrupted by parent process "[^"]+" \("\d+"\) ended \(as SIGHUP\)/m,
      );
      assert.match(npx.stderr, /^Interrupted by SIGHUP: \d+ of \d+ scenarios finished/m);
      const { results, finished } = readResults(`${out}/ref-hardened.json`);
      assert.equal(results.environment.interrupted.signal, "SIGHUP");
      assert(finished >= 1);
      assert.doesNotMatch(npx.stderr, /^(fail|error) /m);
    } finally {
      if (runPid && stillThere(runPid)) Deno.kill(runPid, "SIGKILL");
      if (!npx.exitedAt) Deno.kill(-npx.pid, "SIGKILL");
      await npx.done();
      await Promise.all([state, out].map((d) => Deno.remove(d, { recursive: true })));
    }
  },
});

/**
 * A target file whose server never listens: the runner waits for it (at most an hour) with the
 * lab up and processes inside, so a test can act on a run mid-scenario at its own pace.
 */
async function neverReadyTarget(dir: string): Promise<string> {
  const path = `${dir}/never_ready.ts`;
  await Deno.writeTextFile(
    path,
    `import { defineTarget } from "${new URL("../../mod.ts", import.meta.url).href}";\n` +
      `export default defineTarget({ id: "never-ready", title: "never listens", port: 7000, ` +
      `start: () => ({ argv: ["sleep", "3600"], readyTimeoutMs: 3_600_000 }), protocol: { ` +
      `request: { send: "A\\n", until: "B\\n" }, partialRequest: "A" } });\n`,
  );
  return path;
}

Deno.test({
  name: "SIGKILL mid-scenario, then the next command removes every trace of that run",
  sanitizeResources: false,
  async fn() {
    const [state, dir] = [await tempDir("state"), await tempDir("targets")];
    // The scenario cannot end before the kill: its target never gets ready.
    const target = await neverReadyTarget(dir);
    const cli = new CliRun(
      [...CLI, "suite", "vanish/idle", "--target", target, "--deadline", "10s"],
      { CLIENTDOWN_STATE: state },
    );
    try {
      const id = runOf(cli.pid);
      let procs: Proc[] = [];
      await cli.until("the target running in its lab", async () => {
        procs = await processesInNamespacesOf(id);
        return procs.some((p) => cmdline(p.pid).startsWith("sleep 3600"));
      }, 60_000);
      procs = await processesOf(cli, id, procs);
      Deno.kill(cli.pid, "SIGKILL");
      assert.equal((await cli.done()).signal, "SIGKILL");
      // Killed outright, the run could clean nothing: its lab directory is still there (its
      // namespaces too, unless another command on this host has swept them meanwhile).
      assert(labDirsOf(state, id).length > 0);

      const list = new CliRun([...CLI, "list"], { CLIENTDOWN_STATE: state });
      assert.equal((await list.done()).code, 0, list.stderr);
      assert.match(
        list.stderr,
        new RegExp(`Removed stale labs of runs .*${id.replace(".", "\\.")}`),
      );
      assert.deepEqual(await tracesOf(id, state, procs), NOTHING);
    } finally {
      if (!cli.exitedAt) Deno.kill(-cli.pid, "SIGKILL");
      await cli.done();
      await Promise.all([state, dir].map((d) => Deno.remove(d, { recursive: true })));
    }
  },
});

Deno.test({
  name:
    "two runs with different state directories side by side, and a list with a third: each untouched",
  sanitizeResources: false,
  async fn() {
    const states = [await tempDir("a"), await tempDir("b"), await tempDir("c")];
    const suite = [...CLI, "suite", "vanish/idle", "--target", "ref-hardened", "--deadline", "10s"];
    const runs = states.slice(0, 2).map((state) =>
      new CliRun([...suite, "--json"], { CLIENTDOWN_STATE: state })
    );
    try {
      const ids = runs.map((r) => runOf(r.pid));
      const seen: Proc[][] = [[], []];
      for (const [i, r] of runs.entries()) {
        await r.until("its lab", async () => {
          seen[i] = await processesInNamespacesOf(ids[i] ?? "");
          return (seen[i]?.length ?? 0) >= 2;
        }, 60_000);
      }
      // While both wait for the server, a command with yet another state directory sweeps.
      const list = new CliRun([...CLI, "list"], { CLIENTDOWN_STATE: states[2] ?? "" });
      assert.equal((await list.done()).code, 0, list.stderr);
      for (const id of ids) assert.doesNotMatch(list.stderr, new RegExp(id.replace(".", "\\.")));
      for (const [i, r] of runs.entries()) {
        const procs = await processesOf(r, ids[i] ?? "", seen[i]);
        const status = await r.done();
        assert.equal(status.code, 0, r.stderr);
        const results = JSON.parse(r.stdout);
        const scenario = results.scenarios[0];
        // ref-hardened's keepalive (2 s + 3 × 1 s) releases a vanished idle client.
        assert.equal(scenario.verdict, "pass", JSON.stringify(scenario.expectations));
        assert.equal(results.environment.interrupted, undefined);
        assert.deepEqual(await tracesOf(ids[i] ?? "", states[i] ?? "", procs), NOTHING);
      }
    } finally {
      for (const r of runs) if (!r.exitedAt) Deno.kill(-r.pid, "SIGKILL");
      await Promise.all(runs.map((r) => r.done()));
      await Promise.all(states.map((d) => Deno.remove(d, { recursive: true })));
    }
  },
});

Deno.test({
  name: "doctor leaves no record and no namespace: the next command finds nothing stale",
  sanitizeResources: false,
  async fn() {
    const state = await tempDir("state");
    try {
      const doctor = new CliRun([...CLI, "doctor"], { CLIENTDOWN_STATE: state });
      const id = runOf(doctor.pid);
      assert.equal((await doctor.done()).code, 0, doctor.stderr);
      assert.deepEqual(await tracesOf(id, state, []), NOTHING);
      const list = new CliRun([...CLI, "list"], { CLIENTDOWN_STATE: state });
      assert.equal((await list.done()).code, 0, list.stderr);
      // Other runs on this host may have left labs; none of them is doctor's.
      assert.doesNotMatch(list.stderr, new RegExp(id.replace(".", "\\.")));
      assert.deepEqual([...Deno.readDirSync(state)], [], "no owner record, no lab directory");
    } finally {
      await Deno.remove(state, { recursive: true });
    }
  },
});

function stillThere(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "a bad target field: exit 2 naming file and field, and no namespace of that run",
  sanitizeResources: false,
  async fn() {
    const dir = await tempDir("targets");
    const mod = new URL("../../mod.ts", import.meta.url).href;
    const target = (start: string) =>
      `import { defineTarget } from "${mod}";\nexport default defineTarget({ id: "bad", ` +
      `title: "bad", port: 7000, start: ${start}, protocol: { request: { send: "A\\n", ` +
      `until: "B\\n" }, partialRequest: "A" } });\n`;
    const cases: [string, string, string][] = [
      ["empty_argv.ts", target(`() => ({ argv: [] })`), `"start().argv"`],
      ["escape.ts", target(`() => ({ argv: ["x"], files: { "../x": "" } })`), `"start().files"`],
      [
        "signal.ts",
        target(`() => ({ argv: ["x"], stopSignal: "SIGNOPE" })`),
        `"start().stopSignal"`,
      ],
    ];
    try {
      for (const [name, source, field] of cases) {
        await Deno.writeTextFile(`${dir}/${name}`, source);
        const cli = new CliRun([...CLI, "suite", "vanish/idle", "--target", `${dir}/${name}`]);
        const id = runOf(cli.pid);
        let seen = 0;
        while (!cli.exitedAt) {
          seen += (await namespacesOf(id)).length;
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal((await cli.done()).code, 2, cli.stderr);
        assert(cli.stderr.startsWith(`clientdown: Target file "${dir}/${name}": `), cli.stderr);
        assert(cli.stderr.includes(`field ${field} must be`), cli.stderr);
        assert.equal(seen + (await namespacesOf(id)).length, 0, "no namespace was made");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
