/**
 * RST from the client host: the client's kernel destroys its connections to the server
 * (`ss -K`) and sends an RST for each, as a host does when its stack is told to drop them.
 * The server sees an RST.
 *
 * @module
 */

import { CLIENT, type DualAddress } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { connectionFilter, destroySockets } from "./_destroy_sockets.ts";
import { FaultUnsupported, unsupportedFault } from "./unsupported.ts";

/** Connections reset from the client host. */
export interface ResetFromHost {
  /** Monotonic ms at which the sockets were destroyed (their RSTs sent). */
  readonly t: number;
  /** How many connections the kernel destroyed (at least one). */
  readonly destroyed: number;
}

/**
 * Destroys the client's connections to the server (only the one from `localPort` if given).
 * Throws when no connection matched: a fault that hit nothing would pass for one that worked.
 *
 * @example
 * ```ts
 * import { resetFromHost } from "./reset_from_host.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * // ... a client connected from port 40000 ...
 * await resetFromHost(lab, { localPort: 40000 });
 * await lab.teardown();
 * ```
 */
export async function resetFromHost(
  lab: Lab,
  options: { localPort?: number; serverPort?: number; client?: DualAddress } = {},
): Promise<ResetFromHost | FaultUnsupported> {
  const unsupported = await unsupportedFault("reset-from-host", ["socketDestroy"]);
  if (unsupported) return unsupported;
  const selector = { ...options, client: options.client ?? CLIENT };
  const destroyed = await destroySockets(lab.hosts.client, selector);
  const t = monotonicMs();
  if (destroyed === 0) {
    throw new Error(`No connection of the client matched: "${connectionFilter(selector)}"`);
  }
  return { t, destroyed };
}
