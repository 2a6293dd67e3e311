/**
 * Installs the lab's Debian packages when they are missing: quick when everything is on PATH,
 * `apt-get` when root, and otherwise a message that names what is missing and how to get it.
 *
 * @module
 */

import { isRoot } from "../process/privilege.ts";
import { CommandError, onPath } from "../process/spawn.ts";
import { aptInstall, aptUpdate, SetupError } from "./apt.ts";
import { LAB_PROGRAMS } from "./lab_packages.ts";

export { SetupError };

/** What setup did. */
export interface SetupResult {
  installed: string[];
}

/** Debian packages whose programs are missing from PATH, in a stable order. */
export function missingPackages(): string[] {
  const missing = LAB_PROGRAMS.filter((p) => !onPath(p.binary)).map((p) => p.debianPackage);
  return [...new Set(missing)];
}

/**
 * Makes sure every lab program is on PATH, installing what is missing with apt-get when root;
 * without root (a rootless lab) a missing program is refused with what to run once as root.
 */
export async function ensureLabPackages(
  log: (line: string) => void = () => {},
): Promise<SetupResult> {
  const missing = missingPackages();
  if (missing.length === 0) return { installed: [] };
  if (!isRoot()) {
    throw new SetupError(
      `The lab needs ${missing.join(", ")}, and only root can install them: ` +
        `run \`sudo deno task setup\` once (or sudo apt-get install -y ${missing.join(" ")})`,
      2,
    );
  }
  if (!onPath("apt-get")) {
    throw new SetupError(
      `Missing programs and no apt-get to install them: install the packages ${missing.join(", ")}`,
    );
  }
  log(`Installing ${missing.join(" ")} with apt-get`);
  try {
    await aptUpdate(log);
    await aptInstall(missing, log);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new SetupError(`Could not install ${missing.join(" ")} with apt-get: ${error.message}`);
  }
  const still = missingPackages();
  if (still.length) {
    throw new SetupError(
      `apt-get finished but these packages' programs are still missing: ${still.join(", ")}`,
    );
  }
  return { installed: missing };
}
