/**
 * Heal: the outage ends. Removes the most recent fault that can be undone (a vanish, an ICMP
 * rejection): traffic flows again.
 *
 * @module
 */

import { defineFault } from "./fault.ts";

/** The fault `heal`: removes the last outage. */
export const healFault = defineFault({
  name: "heal",
  actor: "router",
  summary: "the outage ends: the last vanish or ICMP rejection is removed",
  takesClientDown: false,
  needs: [],
  apply: async ({ undoLast }) => ({ t: await undoLast(), peer: "answers" }),
});
