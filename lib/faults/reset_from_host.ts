/**
 * RST from the client host: the client's kernel destroys its connections to the server
 * (SOCK_DESTROY, what `ss -K` asks for) and sends an RST for each, as a host does when its
 * stack is told to drop them. The server sees an RST.
 *
 * @module
 */

import { CLIENT, type DualAddress } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { describeSelection, destroySockets } from "./_destroy_sockets.ts";
import type { CapabilityName } from "./capabilities.ts";
import { defineFault } from "./fault.ts";
import { FaultUnsupported, whenSupported } from "./unsupported.ts";

const NEEDS: readonly CapabilityName[] = ["socketDestroy"];

/** Connections reset from the client host. */
export interface ResetFromHost {
  /** Monotonic ms just before the system calls that destroyed them. */
  readonly sentAt: number;
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
  const selector = { ...options, client: options.client ?? CLIENT };
  const done = await whenSupported("reset-from-host", NEEDS, () => {
    const sentAt = monotonicMs();
    const destroyed = destroySockets(lab, selector);
    return { sentAt, t: monotonicMs(), destroyed };
  });
  if (done instanceof FaultUnsupported) return done;
  if (done.destroyed === 0) {
    throw new Error(`No connection of the client matched: ${describeSelection(selector)}`);
  }
  return done;
}

/** The fault `reset-from-host`: the client's kernel destroys the connection (SOCK_DESTROY, as `ss -K`): RST. */
export const resetFromHostFault = defineFault({
  name: "reset-from-host",
  actor: "client-host",
  endsWithSegment: true,
  summary: "the client's kernel destroys the connection (SOCK_DESTROY, as ss -K) and sends RST",
  takesClientDown: true,
  needs: NEEDS,
  apply: async ({ lab, serverPort, clientPort }) => {
    const done = await resetFromHost(lab, {
      serverPort,
      ...(clientPort === undefined ? {} : { localPort: clientPort }),
    });
    return done instanceof FaultUnsupported ? done : { t: done.t, peer: "resets" };
  },
});
