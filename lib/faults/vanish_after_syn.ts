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
import { FaultUnsupported, unsupportedFault } from "./unsupported.ts";
import type { Vanished } from "./vanish.ts";

/** Installs the drop before the client connects; `heal()` removes it. */
export async function vanishAfterSyn(
  lab: Lab,
  options: { client?: DualAddress } = {},
): Promise<Vanished | FaultUnsupported> {
  const unsupported = await unsupportedFault("vanish-after-syn", ["nft"]);
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
