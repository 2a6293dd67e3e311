/**
 * Installs a target's Debian package on first use. Services do not start on their own:
 * Debian's policy-rc.d (present on this kind of machine) or the absence of an init keeps
 * package scripts from starting a server in the host's own namespace.
 *
 * @module
 */

import { isRoot } from "../process/privilege.ts";
import { CommandError, onPath } from "../process/spawn.ts";
import { aptInstall, aptUpdate } from "../setup/apt.ts";
import { SetupError } from "../setup/ensure_packages.ts";
import type { TargetDefinition } from "./define_target.ts";

/** A program a target needs and the Debian package that provides it. */
export interface NeededPackage {
  binary: string;
  debianPackage: string;
}

/** Everything the target needs installed: its own package first, then what it also needs. */
export function neededPackages(target: TargetDefinition): NeededPackage[] {
  const install = target.install;
  if (!install) return [];
  return [
    { binary: install.binary, debianPackage: install.debianPackage },
    ...(install.alsoNeeds ?? []),
  ];
}

/** What the target needs that is missing (its program is neither on PATH nor a file). */
export function missingPackages(target: TargetDefinition): NeededPackage[] {
  return neededPackages(target).filter((p) => onPath(p.binary) === undefined && !exists(p.binary));
}

/** Whether everything the target needs is installed (or it declares nothing to install). */
export function isInstalled(target: TargetDefinition): boolean {
  return missingPackages(target).length === 0;
}

function exists(path: string): boolean {
  try {
    return path.startsWith("/") && Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Installs the target's package with apt-get when its program is missing (root only). */
export async function ensureInstalled(
  target: TargetDefinition,
  log: (line: string) => void,
): Promise<void> {
  const missing = missingPackages(target);
  if (missing.length === 0) return;
  const names = missing.map((p) => p.debianPackage);
  const binaries = missing.map((p) => `"${p.binary}"`).join(", ");
  const packages = names.join(" ");
  if (!isRoot()) {
    throw new SetupError(
      `Target "${target.id}" needs ${binaries}, and only root can install them: ` +
        `sudo apt-get install -y ${packages}`,
      2,
    );
  }
  if (!onPath("apt-get")) {
    throw new SetupError(
      `Target "${target.id}" needs ${binaries}: install the Debian package(s) ${packages}`,
    );
  }
  log(`Installing ${packages} for target "${target.id}" with apt-get`);
  try {
    await aptInstall(names, log).catch(async (error) => {
      if (error instanceof SetupError) throw error;
      // The package lists may be missing or stale on a fresh machine.
      await aptUpdate(log);
      await aptInstall(names, log);
    });
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new SetupError(
      `Could not install ${packages} for target "${target.id}": ${error.message}`,
    );
  }
  const still = missingPackages(target);
  if (still.length) {
    throw new SetupError(
      `${packages} installed, but ${
        still.map((p) => `"${p.binary}"`).join(", ")
      } still missing for target "${target.id}"`,
    );
  }
}
