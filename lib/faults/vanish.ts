/**
 * Vanish: the client host is gone (cable pulled, power lost). The router drops every packet
 * from or to the client's addresses, both ways, v4 and v6; other hosts (the bystander) pass.
 * The server sees silence: its retransmissions or keepalive probes go unanswered.
 *
 * @module
 */

import { CLIENT, type DualAddress } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { createTable, deleteTable, type FaultTable, once } from "./_nft.ts";
import type { CapabilityName } from "./capabilities.ts";
import { defineFault } from "./fault.ts";
import { FaultUnsupported, unsupportedFault } from "./unsupported.ts";

const NEEDS: readonly CapabilityName[] = ["nft"];

/** A vanished client host. */
export interface Vanished {
  /** Monotonic ms at which the drop took effect. */
  readonly t: number;
  /** Removes the drop; resolves with the monotonic ms traffic flows again. Idempotent. */
  heal(): Promise<number>;
}

/**
 * Drops every packet of `client` (default CLIENT) at the router's forward hook.
 *
 * @example
 * ```ts
 * import { vanish } from "./vanish.ts";
 * import { FaultUnsupported } from "./unsupported.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * const gone = await vanish(lab);
 * if (!(gone instanceof FaultUnsupported)) await gone.heal();
 * await lab.teardown();
 * ```
 */
export async function vanish(
  lab: Lab,
  options: { client?: DualAddress } = {},
): Promise<Vanished | FaultUnsupported> {
  const unsupported = await unsupportedFault("vanish", NEEDS);
  if (unsupported) return unsupported;
  const client = options.client ?? CLIENT;
  const table: FaultTable = { netns: lab.hosts.router, family: "inet", name: "cd_vanish" };
  // Forward only: the router's own stack plays no part in a client's conversation with the
  // server. After a NAT's prerouting, the reply's address is already the client's again.
  const t = await createTable(
    table,
    ` chain forward {
  type filter hook forward priority filter - 10; policy accept;
  ip saddr ${client.v4} counter drop
  ip daddr ${client.v4} counter drop
  ip6 saddr ${client.v6} counter drop
  ip6 daddr ${client.v6} counter drop
 }`,
  );
  return { t, heal: once(() => deleteTable(table)) };
}

/** The fault `vanish`: every packet of the client dropped at the router, both ways. */
export const vanishFault = defineFault({
  name: "vanish",
  summary: "cable pulled, power lost: every packet of the client dropped at the router",
  takesClientDown: true,
  needs: NEEDS,
  apply: async ({ lab }) => {
    const gone = await vanish(lab);
    return gone instanceof FaultUnsupported ? gone : { t: gone.t, undo: gone.heal, peer: "silent" };
  },
});
