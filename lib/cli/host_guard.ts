/**
 * Runs a command (the test suite) and checks afterwards that the host is as it was: no lab
 * namespace left, and the root namespace's links, routes, rules and rulesets unchanged.
 * Exits with the command's code, or 1 when the host was changed.
 *
 * A namespace left behind is one made during the command whose run is dead (see owner.ts):
 * labs of other runs live on this host at the same time are none of the command's doing.
 *
 * Stopped (SIGINT, SIGTERM, SIGHUP, or its parent's end: `npx … task test` in a cancelled CI
 * job), it stops the command, sweeps what the command's runs left and exits with the signal's
 * code; the check of the host still runs.
 *
 * Usage: `deno run --allow-all lib/cli/host_guard.ts <command> [args...]`
 *
 * @module
 */

import { run, spawn } from "../process/spawn.ts";
import { diffSnapshots, snapshotHost } from "../lab/host_snapshot.ts";
import { sweepStaleLabs } from "../lab/sweep.ts";
import { parseNetnsName } from "../lab/names.ts";
import { runAlive } from "../lab/owner.ts";
import { Interrupt } from "./interrupt.ts";

async function labNamespaces(): Promise<string[]> {
  const listed = await run(["ip", "netns", "list"]);
  return listed.stdout.split("\n").map((l) => l.split(" ")[0] ?? "").filter((n) =>
    parseNetnsName(n)
  );
}

if (import.meta.main) {
  await sweepStaleLabs();
  const before = await snapshotHost();
  const existing = new Set(await labNamespaces());
  const [program = "", ...args] = Deno.args;
  const argv = [program === "deno" ? Deno.execPath() : program, ...args];
  const child = spawn(argv, { stdin: "null", stdout: "inherit", stderr: "inherit" });
  const interrupt = new Interrupt({ log: (line) => console.error(`host_guard: ${line}`) });
  interrupt.signal.addEventListener("abort", () => {
    child.signal(interrupt.received === "SIGINT" ? "SIGINT" : "SIGTERM");
  });
  interrupt.install();
  const status = await child.status;
  // A command stopped halfway cannot have removed its labs: they belong to dead runs now.
  if (interrupt.received) await sweepStaleLabs();
  const changed = diffSnapshots(before, await snapshotHost());
  const left = (await labNamespaces()).filter((n) =>
    !existing.has(n) && !runAlive(parseNetnsName(n)?.run ?? "")
  );
  for (const { command, before, after } of changed) {
    console.error(
      `host_guard: the host's "${command}" changed during the run:\n--- before\n${before}\n--- after\n${after}`,
    );
  }
  if (left.length) console.error(`host_guard: lab namespaces left behind: ${left.join(", ")}`);
  if (changed.length === 0 && left.length === 0) {
    console.error(
      "host_guard: host links, routes, rules and rulesets unchanged; no lab left behind",
    );
  }
  Deno.exit(changed.length || left.length ? 1 : interrupt.exitCode ?? status.code);
}
