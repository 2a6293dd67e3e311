/**
 * `close()`: a FIN, or an RST when unread data is in the receive buffer (the kernel's rule).
 *
 * @module
 */

import { defineShut } from "./_shut.ts";

/** The step `close`. */
export const closeAction = defineShut(
  "close",
  "the client closes: FIN, or RST with unread data",
  (agent, id) => agent.close(id),
  true,
);
