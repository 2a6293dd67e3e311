/**
 * Installs the lab's Debian packages when they are missing: quick when everything is on PATH,
 * `apt-get` when root, and otherwise a message that names what is missing and how to get it.
 *
 * @module
 */

import { CommandError, onPath } from "../process/spawn.ts";
import { aptInstall, aptUpdate, SetupError } from "./apt.ts";
import { LAB_PROGRAMS } from "./lab_packages.ts";

export { SetupError };

/** What setup did. */
export interface SetupResult {
  installed: string[];
}

/** Whether this process runs as root (the lab needs CAP_NET_ADMIN and CAP_SYS_ADMIN). */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** Debian packages whose programs are missing from PATH, in a stable order. */
export function missingPackages(): string[] {
  const missing = LAB_PROGRAMS.filter((p) => !onPath(p.binary)).map((p) => p.debianPackage);
  return [...new Set(missing)];
}

/** Makes sure the lab can run: root, and every lab program on PATH (installing with apt-get). */
export async function ensureLabPackages(
  log: (line: string) => void = () => {},
): Promise<SetupResult> {
  const missing = missingPackages();
  if (!isRoot()) {
    const install = missing.length ? ` and install ${missing.join(" ")}` : "";
    throw new SetupError(
      `clientdown must run as root: its labs are network namespaces (CAP_NET_ADMIN, CAP_SYS_ADMIN): ` +
        `run it with sudo${install} (sudo apt-get install -y ${missing.join(" ") || "iproute2"})`,
    );
  }
  if (missing.length === 0) return { installed: [] };
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
