/**
 * CONFIG_HZ of the running kernel: the tick of its timer wheel, which decides how late the TCP
 * timers fire (timer_wheel.ts). Read from the kernel's own configuration, `/proc/config.gz`
 * (CONFIG_IKCONFIG_PROC, gzip), or else the distribution's `/boot/config-<release>`; undefined
 * when neither says, and predictions then use the coarsest wheel Linux allows. Needs
 * `--allow-read` on those files (and `--allow-sys=osRelease` for the default paths).
 *
 * @module
 */

import { gunzipSync } from "node:zlib";

/** Where the kernel's configuration is read from, first to last. */
export interface KernelConfigPaths {
  /** The gzip-compressed configuration the kernel exposes (default `/proc/config.gz`). */
  procConfigGz: string;
  /** The configuration the kernel was built with (default `/boot/config-$(uname -r)`). */
  bootConfig: string;
}

/** The paths of the running kernel's configuration. */
export function kernelConfigPaths(): KernelConfigPaths {
  return { procConfigGz: "/proc/config.gz", bootConfig: `/boot/config-${Deno.osRelease()}` };
}

/**
 * CONFIG_HZ from the text of a kernel configuration, or undefined when it does not say.
 *
 * @example
 * ```ts
 * import { parseConfigHz } from "./kernel_hz.ts";
 * parseConfigHz("CONFIG_HZ_250=y\nCONFIG_HZ=250\n"); // 250
 * parseConfigHz("# CONFIG_IKCONFIG is not set\n"); // undefined
 * ```
 */
export function parseConfigHz(config: string): number | undefined {
  const m = /^CONFIG_HZ=(\d{1,6})[ \t\r]*$/m.exec(config);
  const hz = m ? Number(m[1]) : NaN;
  return hz >= 1 ? hz : undefined;
}

/**
 * CONFIG_HZ of the running kernel (or of the configuration at `paths`): `/proc/config.gz`
 * first, then the configuration in `/boot`; undefined when neither can be read or says.
 *
 * @example
 * ```ts ignore
 * import { readKernelHz } from "./kernel_hz.ts";
 * await readKernelHz(); // e.g. 250
 * ```
 */
export async function readKernelHz(
  paths: KernelConfigPaths = kernelConfigPaths(),
): Promise<number | undefined> {
  const gz = await readOrUndefined(() => Deno.readFile(paths.procConfigGz));
  if (gz) {
    let text: string | undefined;
    try {
      text = new TextDecoder().decode(gunzipSync(gz));
    } catch {
      // Not gzip: the kernel does not say there; the /boot copy may.
    }
    const hz = text === undefined ? undefined : parseConfigHz(text);
    if (hz !== undefined) return hz;
  }
  const boot = await readOrUndefined(() => Deno.readTextFile(paths.bootConfig));
  return boot === undefined ? undefined : parseConfigHz(boot);
}

let running: Promise<number | undefined> | undefined;

/**
 * CONFIG_HZ of the running kernel, read once per process (it cannot change while the process
 * runs); undefined when the configuration is unknown or unreadable: predictions then take the
 * coarsest wheel.
 */
export function runningKernelHz(): Promise<number | undefined> {
  return running ??= readKernelHz().catch(() => undefined);
}

/** The file's content, or undefined when it is absent or may not be read. */
async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied ||
      error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.IsADirectory
    ) {
      return undefined;
    }
    throw error;
  }
}
