/**
 * The client vanishes right after its SYN: the router lets the client's SYN through and
 * the server's SYN-ACK back, then drops everything else the client sends. The server is left
 * with a half-open connection in SYN_RECV, retransmitting its SYN-ACK into the void.
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
import type { Vanished } from "./vanish.ts";

/** Installs the drop before the client connects; `heal()` removes it. */
export async function vanishAfterSyn(
  lab: Lab,
  options: { client?: DualAddress } = {},
): Promise<Vanished | FaultUnsupported> {
  const unsupported = await unsupportedFault("vanish-after-syn", NEEDS);
  if (unsupported) return unsupported;
  const client = options.client ?? CLIENT;
  const table: FaultTable = { netns: lab.hosts.router, family: "inet", name: "cd_after_syn" };
  const t = await createTable(
    table,
    ` chain forward {
  type filter hook forward priority filter - 10; policy accept;
  ip saddr ${client.v4} tcp flags & (syn | ack) != syn counter drop
  ip6 saddr ${client.v6} tcp flags & (syn | ack) != syn counter drop
 }`,
  );
  return { t, heal: once(() => deleteTable(table)) };
}

/** The fault `vanish-after-syn`: everything of the client but its SYN dropped. */
export const vanishAfterSynFault = defineFault({
  name: "vanish-after-syn",
  summary: "everything of the client but its SYN dropped: the server is left in SYN_RECV",
  takesClientDown: true,
  needs: NEEDS,
  apply: async ({ lab }) => {
    const gone = await vanishAfterSyn(lab);
    return gone instanceof FaultUnsupported ? gone : { t: gone.t, undo: gone.heal, peer: "silent" };
  },
});
