/**
 * `deno task setup`: installs what the lab needs on this machine (idempotent, quick when present).
 * Needs root. Permissions: --allow-run --allow-env --allow-read.
 *
 * @module
 */

import { ensureLabPackages, SetupError } from "./ensure_packages.ts";

if (import.meta.main) {
  try {
    const { installed } = await ensureLabPackages((line) => console.error(line));
    if (installed.length) console.error(`Installed: ${installed.join(" ")}`);
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    console.error(`clientdown setup: ${error.message}`);
    Deno.exit(3);
  }
}
