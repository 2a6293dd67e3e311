/**
 * `deno task test`: installs what the tests need (the lab's programs and every built-in
 * target's server, with apt-get, as `certify` does on first use), runs the test files side by
 * side (lib/cli/parallel_tests.ts) inside the host guard (lib/cli/host_guard.ts), and ends with
 * which target tests were skipped and why: only a server this machine cannot have skips its
 * tests. Exits with the tests' exit code (3 when setup cannot proceed). Needs root.
 * Permissions: --allow-all.
 *
 * Usage: `deno run --allow-all lib/cli/test_task.ts [test paths...] [deno test flags...]`
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { spawn } from "../process/spawn.ts";
import { ensureLabPackages, SetupError } from "../setup/ensure_packages.ts";
import { ensureTargetPackages, installBlocker } from "../target/target_packages.ts";
import { builtInTargets } from "./load_target.ts";

const HOST_GUARD = fileURLToPath(new URL("./host_guard.ts", import.meta.url));
const PARALLEL_TESTS = fileURLToPath(new URL("./parallel_tests.ts", import.meta.url));

/** The summary's lines: what was installed, and each target skipped for lack of its server. */
export function summaryLines(
  targetCount: number,
  installed: readonly string[],
  installMs: number,
  skipped: readonly { target: string; reason: string }[],
): string[] {
  const lines = installed.length
    ? [
      `Installed ${installed.length} target server packages in ${
        (installMs / 1000).toFixed(0)
      } s: ${installed.join(" ")}`,
    ]
    : [];
  if (skipped.length === 0) {
    return [
      ...lines,
      `Target tests: the servers of all ${targetCount} built-in targets are installed; ` +
      "none was skipped for lack of a server",
    ];
  }
  return [
    ...lines,
    `Target tests skipped: ${skipped.length} of ${targetCount} targets, whose server this ` +
    "machine cannot have:",
    ...skipped.map(({ target, reason }) => `  ${target}: ${reason}`),
  ];
}

if (import.meta.main) {
  const log = (line: string) => console.error(`clientdown test: ${line}`);
  let targets;
  let setup;
  try {
    await ensureLabPackages(log);
    targets = await builtInTargets();
    setup = await ensureTargetPackages(targets, log);
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    log(error.message);
    Deno.exit(3);
  }
  const child = spawn(
    [
      Deno.execPath(),
      "run",
      "--allow-all",
      HOST_GUARD,
      "deno",
      "run",
      "--allow-all",
      PARALLEL_TESTS,
      ...Deno.args,
    ],
    { stdin: "null", stdout: "inherit", stderr: "inherit" },
  );
  // A terminal's Ctrl-C reaches the whole process group, the guard included; a SIGTERM or
  // SIGHUP sent to this process alone is passed on, and the guard stops the tests.
  for (const signal of ["SIGTERM", "SIGHUP"] as const) {
    Deno.addSignalListener(signal, () => child.signal(signal));
  }
  Deno.addSignalListener("SIGINT", () => {});
  const status = await child.status;
  const reasons = new Map(setup.unavailable.map((u) => [u.target, u.reason]));
  const skipped = targets.flatMap((target) => {
    const blocker = installBlocker(target);
    return blocker === undefined ? [] : [{
      target: target.id,
      reason: reasons.get(target.id) ?? blocker,
    }];
  });
  for (const line of summaryLines(targets.length, setup.installed, setup.installMs, skipped)) {
    console.error(line);
  }
  Deno.exit(status.code);
}
