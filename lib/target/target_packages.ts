/**
 * The Debian packages of the built-in targets' servers: which are missing, which this machine
 * cannot have (and why), and installing all the missing ones at once, as `certify` installs
 * one on first use. The test task installs them before the tests, so that no target test is
 * skipped for a server that could have been installed.
 *
 * @module
 */

import { CommandError, onPath } from "../process/spawn.ts";
import { aptInstall, aptUpdate } from "../setup/apt.ts";
import type { TargetDefinition } from "./define_target.ts";
import { missingPackages } from "./ensure_installed.ts";
import { isRoot } from "../process/privilege.ts";

/** A built-in target whose server is missing, and why it cannot be installed. */
export interface Unavailable {
  /** The target's id. */
  target: string;
  /** Its Debian package(s) still missing, space-separated. */
  debianPackage: string;
  /** Why this machine cannot have it, e.g. "no installation candidate in apt's sources". */
  reason: string;
}

/** What `ensureTargetPackages` did. */
export interface TargetPackagesResult {
  /** Packages installed now. */
  installed: string[];
  /** Milliseconds apt-get took (update and install); 0 when nothing was missing. */
  installMs: number;
  /** Targets whose server is still missing, with the reason. */
  unavailable: Unavailable[];
}

/**
 * Why this machine cannot have the target's server, or undefined when it has it or can get
 * it (installed on first use). Only a real impossibility counts: not root (apt-get needs it),
 * no apt-get (not a Debian-like system), or apt's package lists know no installable version
 * of the package. Missing package lists are no reason: installing updates them first.
 *
 * @example
 * ```ts ignore
 * import redis from "../../targets/redis.ts";
 * import { installBlocker } from "./target_packages.ts";
 * Deno.test({ name: "redis …", ignore: installBlocker(redis) !== undefined, fn() {} });
 * ```
 */
export function installBlocker(target: TargetDefinition): string | undefined {
  const missingNow = missingPackages(target);
  if (missingNow.length === 0) return undefined;
  const missing = missingNow.map((p) => `"${p.binary}"`).join(", ") +
    (missingNow.length === 1 ? " is missing" : " are missing");
  const packages = missingNow.map((p) => p.debianPackage);
  const named = packages.map((name) => `"${name}"`).join(", ");
  if (!isRoot()) return `${missing} and only root can install ${named}`;
  if (!onPath("apt-get")) return `${missing} and there is no apt-get to install ${named}`;
  if (!hasPackageLists()) return undefined;
  const uninstallable = packages.find((name) => {
    const policy = new Deno.Command("apt-cache", { args: ["policy", name] }).outputSync();
    const candidate = /Candidate:\s*(\S+)/.exec(new TextDecoder().decode(policy.stdout))?.[1];
    return candidate === undefined || candidate === "(none)";
  });
  return uninstallable === undefined
    ? undefined
    : `${missing} and apt's sources have no installable "${uninstallable}"`;
}

function hasPackageLists(): boolean {
  try {
    for (const entry of Deno.readDirSync("/var/lib/apt/lists")) {
      if (entry.name.endsWith("_Packages") || entry.name.includes("_Packages.")) return true;
    }
  } catch {
    // no lists directory
  }
  return false;
}

/**
 * Installs the Debian packages of every target whose server is missing: one `apt-get update`
 * and one `apt-get install` for all of them; if that fails, one install per package, so that
 * one package this machine cannot have does not keep the others out. Never throws for a
 * package that cannot be installed: it is reported in `unavailable`, with apt's reason.
 */
export async function ensureTargetPackages(
  targets: readonly TargetDefinition[],
  log: (line: string) => void = () => {},
): Promise<TargetPackagesResult> {
  const missing = targets.filter((t) => missingPackages(t).length > 0);
  if (missing.length === 0) return { installed: [], installMs: 0, unavailable: [] };
  const blocked = new Map<TargetDefinition, string>();
  if (!isRoot() || !onPath("apt-get")) {
    for (const target of missing) blocked.set(target, installBlocker(target) ?? "");
    return { installed: [], installMs: 0, unavailable: describe(blocked) };
  }
  const packages = [
    ...new Set(missing.flatMap((t) => missingPackages(t).map((p) => p.debianPackage))),
  ];
  log(`Installing the target servers' packages with apt-get: ${packages.join(" ")}`);
  const started = performance.now();
  const failures = new Map<string, string>();
  try {
    await aptUpdate(log);
    await aptInstall(packages, log);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    for (const name of packages) {
      try {
        await aptInstall([name]);
      } catch (single) {
        if (!(single instanceof CommandError)) throw single;
        failures.set(name, lastLine(single.stderr) || single.message);
      }
    }
  }
  const installMs = performance.now() - started;
  const stillMissing = new Set<string>();
  for (const target of missing) {
    const still = missingPackages(target);
    if (still.length === 0) continue;
    for (const p of still) stillMissing.add(p.debianPackage);
    const failed = still.find((p) => failures.has(p.debianPackage));
    blocked.set(
      target,
      failed
        ? `apt-get could not install "${failed.debianPackage}": ${
          failures.get(failed.debianPackage)
        }`
        : still.map((p) => `"${p.debianPackage}" is installed but "${p.binary}" is still missing`)
          .join("; "),
    );
  }
  const installed = packages.filter((name) => !stillMissing.has(name));
  return { installed, installMs, unavailable: describe(blocked) };
}

function describe(blocked: Map<TargetDefinition, string>): Unavailable[] {
  return [...blocked].map(([target, reason]) => ({
    target: target.id,
    debianPackage: missingPackages(target).map((p) => p.debianPackage).join(" "),
    reason,
  }));
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)?.trim() ?? "";
}
