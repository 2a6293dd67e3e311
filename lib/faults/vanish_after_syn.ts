/**
 * The client vanishes right after its SYN: the router lets the client's SYN through and
 * the server's SYN-ACK back, then drops everything else the client sends. The server is left
 * with a half-open connection in SYN_RECV, retransmitting its SYN-ACK into the void.
 *
 * @module
 */

import type { Lab } from "../lab/lab.ts";
import { wakeTable } from "./_nft.ts";
import type { CapabilityName } from "./capabilities.ts";
import { defineFault } from "./fault.ts";
import { FaultUnsupported, whenSupported } from "./unsupported.ts";
import type { Vanished } from "./vanish.ts";

const NEEDS: readonly CapabilityName[] = ["nft"];

/** Installs the drop before the client connects (the lab's `cd_after_syn` table wakes). */
export function vanishAfterSyn(lab: Lab): Promise<Vanished | FaultUnsupported> {
  return whenSupported("vanish-after-syn", NEEDS, () => wakeTable(lab, "cd_after_syn"));
}

/** The fault `vanish-after-syn`: everything of the client but its SYN dropped. */
export const vanishAfterSynFault = defineFault({
  name: "vanish-after-syn",
  actor: "router",
  summary: "everything of the client but its SYN dropped: the server is left in SYN_RECV",
  takesClientDown: true,
  needs: NEEDS,
  apply: async ({ lab }) => {
    const gone = await vanishAfterSyn(lab);
    return gone instanceof FaultUnsupported
      ? gone
      : { t: gone.t, sentAt: gone.sentAt, undo: gone.undo, peer: "silent" };
  },
});
