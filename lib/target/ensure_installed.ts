/**
 * Installs a target's Debian package on first use. Services do not start on their own:
 * Debian's policy-rc.d (present on this kind of machine) or the absence of an init keeps
 * package scripts from starting a server in the host's own namespace.
 *
 * @module
 */

import { CommandError, INSTALL_TIMEOUT_MS, onPath, run } from "../process/spawn.ts";
import { SetupError } from "../setup/ensure_packages.ts";
import type { TargetDefinition } from "./define_target.ts";

/** Whether the target's program is on PATH (or it declares nothing to install). */
export function isInstalled(target: TargetDefinition): boolean {
  return !target.install || onPath(target.install.binary) !== undefined ||
    exists(target.install.binary);
}

function exists(path: string): boolean {
  try {
    return path.startsWith("/") && Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Installs the target's package with apt-get when its program is missing. */
export async function ensureInstalled(
  target: TargetDefinition,
  log: (line: string) => void,
): Promise<void> {
  if (isInstalled(target) || !target.install) return;
  const { binary, debianPackage } = target.install;
  if (!onPath("apt-get")) {
    throw new SetupError(
      `Target "${target.id}" needs ${binary}: install the Debian package ${debianPackage}`,
    );
  }
  log(`Installing ${debianPackage} for target "${target.id}" with apt-get`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  try {
    await run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", debianPackage], {
      env,
      timeoutMs: INSTALL_TIMEOUT_MS,
    }).catch(
      async () => {
        // The package lists may be missing or stale on a fresh machine.
        await run(["apt-get", "update", "-qq"], { env, timeoutMs: INSTALL_TIMEOUT_MS });
        await run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", debianPackage], {
          env,
          timeoutMs: INSTALL_TIMEOUT_MS,
        });
      },
    );
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new SetupError(
      `Could not install ${debianPackage} for target "${target.id}": ${error.message}`,
    );
  }
  if (!isInstalled(target)) {
    throw new SetupError(
      `${debianPackage} is installed but "${binary}" is still missing for target "${target.id}"`,
    );
  }
}
