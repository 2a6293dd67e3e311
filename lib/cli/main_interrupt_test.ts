// main() when a run is interrupted, and target mistakes that only show once installed: with a
// fake runner and no lab.
import assert from "node:assert/strict";
import { Interrupt } from "./interrupt.ts";
import { main, type MainDeps } from "./main.ts";
import type { Certify } from "./main.ts";
import { fakeCertify, GOOD_SUITES, targetSource, tempDirWith } from "./testdata/temp_files.ts";

async function cli(args: string[], deps: MainDeps) {
  let stdout = "", stderr = "";
  const code = await main(args, {
    prepareLab: () => Promise.resolve(),
    stdout: (t) => stdout += t,
    stderr: (t) => stderr += t,
    terminal: false,
    ...deps,
  });
  return { code, stdout, stderr };
}

/** A runner that is interrupted by `signal` after its first scenario, as the real one reports it. */
function interruptedCertify(interrupt: () => Interrupt, signal: "SIGINT" | "SIGTERM"): Certify {
  const fake = fakeCertify();
  return async (target, scenarios, options) => {
    const results = await fake.certify(target, scenarios, options);
    interrupt().trigger(signal);
    assert.equal(options.signal?.aborted, true, "the runner gets the run's signal");
    results.scenarios = results.scenarios.slice(0, 2).map((s, i) =>
      i === 0 ? s : { ...s, verdict: "interrupted", notes: `Interrupted: ${signal}` }
    );
    results.environment.interrupted = { signal, finished: 1, planned: scenarios.length };
    return results;
  };
}

Deno.test("an interrupted certify: results of what finished written, one line, exit 130 / 143", async () => {
  const suites = await tempDirWith(GOOD_SUITES);
  try {
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      const out = await tempDirWith({});
      let interrupt: Interrupt | undefined;
      let cleaned = 0;
      const result = await cli(["certify", "ref-hardened", "--out", out], {
        suitesDir: suites,
        interrupts: (log) => interrupt = new Interrupt({ log, watchParents: false }),
        certify: interruptedCertify(() => interrupt!, signal),
        cleanUp: () => Promise.resolve(void cleaned++),
      });
      assert.equal(result.code, code, result.stderr);
      assert.equal(cleaned, 1, "whatever is left of the run is removed before exit");
      const lines = result.stderr.trimEnd().split("\n");
      assert.equal(
        lines.at(-1),
        `Interrupted by ${signal}: 1 of 5 scenarios finished (their results are written); ` +
          "nothing of the run is left",
      );
      assert(lines.includes(
        `Interrupted by ${signal}: no new scenario starts; the running ones stop and their labs are removed`,
      ));
      const written = JSON.parse(Deno.readTextFileSync(`${out}/ref-hardened.json`));
      assert.deepEqual(written.scenarios.map((s: { verdict: string }) => s.verdict), [
        "pass",
        "interrupted",
      ]);
      await Deno.remove(out, { recursive: true });
    }
  } finally {
    await Deno.remove(suites, { recursive: true });
  }
});

Deno.test("a version() that fails once the server is installed: exit 2, file and field, no run", async () => {
  const suites = await tempDirWith(GOOD_SUITES);
  const dir = await tempDirWith({
    "my_echo.ts": targetSource({ version: `() => Promise.reject(new Error("no my-echo"))` }),
  });
  try {
    const fake = fakeCertify();
    let prepared = 0;
    const result = await cli(["suite", "rst/idle", "--target", `${dir}/my_echo.ts`], {
      suitesDir: suites,
      certify: fake.certify,
      prepareLab: () => Promise.resolve(void prepared++),
    });
    assert.equal(result.code, 2);
    assert.equal(prepared, 1, "asked once installed");
    assert.equal(fake.calls.length, 0, "no scenario ran");
    assert.match(
      result.stderr,
      /^clientdown: Target file ".+\/my_echo\.ts": field "version" failed for target "my-echo": Error: no my-echo\n$/,
    );
  } finally {
    await Promise.all([suites, dir].map((d) => Deno.remove(d, { recursive: true })));
  }
});

Deno.test("interrupted before anything finished: the last report is kept, not replaced by nothing", async () => {
  const suites = await tempDirWith(GOOD_SUITES);
  const out = await tempDirWith({});
  try {
    let interrupt: Interrupt | undefined;
    const result = await cli(["certify", "ref-hardened", "--out", out], {
      suitesDir: suites,
      interrupts: (log) => interrupt = new Interrupt({ log, watchParents: false }),
      certify: async (target, scenarios, options) => {
        const results = await fakeCertify().certify(target, scenarios, options);
        interrupt?.trigger("SIGINT");
        results.scenarios = results.scenarios.slice(0, 1).map((s) => ({
          ...s,
          verdict: "interrupted",
        }));
        results.environment.interrupted = { signal: "SIGINT", finished: 0, planned: 5 };
        return results;
      },
      cleanUp: () => Promise.resolve(),
    });
    assert.equal(result.code, 130);
    assert.match(
      result.stderr,
      /\nInterrupted by SIGINT: 0 of 5 scenarios finished; nothing of the run is left\n$/,
    );
    assert.deepEqual([...Deno.readDirSync(out)], [], "nothing written over the last report");
  } finally {
    await Promise.all([suites, out].map((d) => Deno.remove(d, { recursive: true })));
  }
});

Deno.test("a second Ctrl-C while cleaning up: one line saying so, no stack trace, exit 130; interrupted scenarios one line each", async () => {
  const suites = await tempDirWith(GOOD_SUITES);
  try {
    let interrupt: Interrupt | undefined;
    const failing = await cli(["suite", "rst", "--target", "ref-hardened"], {
      suitesDir: suites,
      interrupts: (log) => interrupt = new Interrupt({ log, watchParents: false }),
      certify: async () => {
        interrupt?.trigger("SIGINT");
        await new Promise((r) => setTimeout(r, 400)); // past the echo window of one Ctrl-C
        interrupt?.trigger("SIGINT");
        // What a cleanup command the second Ctrl-C killed made of the runner.
        throw new Error("Command failed with exit code 130: ip netns pids cd-x");
      },
      cleanUp: () => Promise.resolve(),
    });
    assert.equal(failing.code, 130);
    assert.deepEqual(failing.stderr.trimEnd().split("\n"), [
      "Interrupted by SIGINT: no new scenario starts; the running ones stop and their labs are removed",
      "Still cleaning up after SIGINT: removing the run's labs and processes, wait for it " +
      "(SIGKILL would leave them to the next command's sweep)",
      "Interrupted by SIGINT: 0 of 2 scenarios finished; nothing of the run is left",
    ]);
    const reported = await cli(["suite", "rst", "--target", "ref-hardened"], {
      suitesDir: suites,
      interrupts: (log) => interrupt = new Interrupt({ log, watchParents: false }),
      certify: async (target, scenarios, options) => {
        const results = await fakeCertify().certify(target, scenarios, options);
        interrupt?.trigger("SIGINT");
        results.scenarios = results.scenarios.map((s) => ({ ...s, verdict: "interrupted" }));
        return results;
      },
      cleanUp: () => Promise.resolve(),
    });
    assert.equal(reported.code, 130);
    const all = reported.stdout.trimEnd().split("\n");
    const body = all.slice(all.findIndex((line) => line.startsWith("interrupted ")));
    assert.equal(body.length, 2, reported.stdout);
    assert(body.every((line) => line.startsWith("interrupted ")), reported.stdout);
  } finally {
    await Deno.remove(suites, { recursive: true });
  }
});
