/**
 * Teardown on SIGINT / SIGTERM: end this process's children and remove its labs, then exit
 * with 128 + the signal number, as a shell would report it.
 *
 * @module
 */

import { endAll } from "../process/spawn.ts";
import { activeLabs } from "./lab.ts";

const EXIT: Record<"SIGINT" | "SIGTERM", number> = { SIGINT: 130, SIGTERM: 143 };

/** Installs the signal handlers; call once from a command's main(). */
export function teardownOnSignal(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      await endAll(200);
      await Promise.allSettled(activeLabs().map((lab) => lab.teardown()));
      Deno.exit(EXIT[signal]);
    });
  }
}
