/**
 * Vanish: the client host is gone (cable pulled, power lost). The router drops every packet
 * from or to the client's addresses, both ways, v4 and v6; other hosts (the bystander) pass.
 * The server sees silence: its retransmissions or keepalive probes go unanswered.
 *
 * @module
 */

import type { Lab } from "../lab/lab.ts";
import { wakeTable } from "./_nft.ts";
import type { CapabilityName } from "./capabilities.ts";
import { defineFault } from "./fault.ts";
import { FaultUnsupported, whenSupported } from "./unsupported.ts";

const NEEDS: readonly CapabilityName[] = ["nft"];

/** A vanished client host. */
export interface Vanished {
  /** Monotonic ms just before the system call that made the router drop the client. */
  readonly sentAt: number;
  /** Monotonic ms at which the drop took effect (that call returned). */
  readonly t: number;
  /** Removes the drop; resolves with the monotonic ms traffic flows again. Idempotent. */
  undo(): Promise<number>;
}

/**
 * Drops every packet of the client (CLIENT) at the router's forward hook: the lab's dormant
 * `cd_vanish` table wakes.
 *
 * @example
 * ```ts
 * import { vanish } from "./vanish.ts";
 * import { FaultUnsupported } from "./unsupported.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * const gone = await vanish(lab);
 * if (!(gone instanceof FaultUnsupported)) await gone.undo();
 * await lab.teardown();
 * ```
 */
export function vanish(lab: Lab): Promise<Vanished | FaultUnsupported> {
  return whenSupported("vanish", NEEDS, () => wakeTable(lab, "cd_vanish"));
}

/** The fault `vanish`: every packet of the client dropped at the router, both ways. */
export const vanishFault = defineFault({
  name: "vanish",
  actor: "router",
  summary: "cable pulled, power lost: every packet of the client dropped at the router",
  takesClientDown: true,
  needs: NEEDS,
  apply: async ({ lab }) => {
    const gone = await vanish(lab);
    return gone instanceof FaultUnsupported
      ? gone
      : { t: gone.t, sentAt: gone.sentAt, undo: gone.undo, peer: "silent" };
  },
});
