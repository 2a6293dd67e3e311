/**
 * Reboot: the client host goes away and comes back without any memory of its connections.
 * The router drops the client's packets (vanish), the client's sockets to the server are
 * destroyed (their RSTs die at the router), then the drop is removed. The server's next
 * packet (retransmission, keepalive probe, data) reaches a host with no such connection,
 * whose kernel answers with an RST.
 *
 * @module
 */

import { CLIENT } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { destroySockets } from "./_destroy_sockets.ts";
import { wakeTable } from "./_nft.ts";
import type { CapabilityName } from "./capabilities.ts";
import { defineFault } from "./fault.ts";
import { FaultUnsupported, whenSupported } from "./unsupported.ts";

const NEEDS: readonly CapabilityName[] = ["nft", "socketDestroy"];

/** A client host that has rebooted. */
export interface Rebooted {
  /** Monotonic ms just before the system call that made the router drop the host. */
  readonly sentAt: number;
  /** Monotonic ms at which the host went down (the drop took effect). */
  readonly t: number;
  /** Monotonic ms at which its sockets were gone. */
  readonly forgotAt: number;
  /** Monotonic ms at which it was reachable again. */
  readonly upAt: number;
  /** How many of its connections to the server the kernel destroyed. */
  readonly destroyed: number;
}

/**
 * Reboots the client host as far as its connections to `serverPort` go; it stays
 * unreachable for `downMs` (default 0) after forgetting them.
 *
 * @example
 * ```ts
 * import { reboot } from "./reboot.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * // ... a server on port 8080 with a connected client ...
 * await reboot(lab, { serverPort: 8080 });
 * await lab.teardown();
 * ```
 */
export async function reboot(
  lab: Lab,
  options: { serverPort: number; downMs?: number },
): Promise<Rebooted | FaultUnsupported> {
  const down = await whenSupported("reboot", NEEDS, () => wakeTable(lab, "cd_vanish"));
  if (down instanceof FaultUnsupported) return down;
  try {
    // The RSTs leave during the destroy's own system call: they have met the drop when it returns.
    const destroyed = destroySockets(lab, {
      client: CLIENT,
      serverPort: options.serverPort,
    });
    const forgotAt = monotonicMs();
    if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
    return { sentAt: down.sentAt, t: down.t, forgotAt, upAt: await down.undo(), destroyed };
  } finally {
    await down.undo();
  }
}

/** The fault `reboot`: gone and back without state; its kernel answers with RST. */
export const rebootFault = defineFault({
  name: "reboot",
  actor: "router",
  summary:
    "gone and back without state: the client's kernel answers the server's next packet with RST",
  takesClientDown: true,
  needs: NEEDS,
  apply: async ({ lab, serverPort }) => {
    const done = await reboot(lab, { serverPort });
    return done instanceof FaultUnsupported ? done : {
      t: done.t,
      sentAt: done.sentAt,
      detail: `${done.destroyed} socket(s) forgotten`,
      peer: "resets",
    };
  },
});
