/**
 * apt-get as every installer of this project runs it: non-interactive, quiet, without
 * recommended packages, bounded in time. Failures are CommandErrors (lib/process/spawn.ts),
 * each caller saying what could not be installed for what.
 *
 * @module
 */

import { INSTALL_TIMEOUT_MS, run } from "../process/spawn.ts";

const APT_ENV = { DEBIAN_FRONTEND: "noninteractive" };

/** Refreshes apt's package lists (`apt-get update`). */
export async function aptUpdate(): Promise<void> {
  await run(["apt-get", "update", "-qq"], { env: APT_ENV, timeoutMs: INSTALL_TIMEOUT_MS });
}

/** Installs Debian packages (`apt-get install`), and only those: no recommends. */
export async function aptInstall(packages: readonly string[]): Promise<void> {
  await run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...packages], {
    env: APT_ENV,
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
}
