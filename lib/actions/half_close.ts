/**
 * `halfClose()`: `shutdown(SHUT_WR)`, a FIN; the client can still read.
 *
 * @module
 */

import { defineShut } from "./_shut.ts";

/** The step `half-close`. */
export const halfCloseAction = defineShut(
  "half-close",
  "the client sends FIN (shutdown) and can still read",
  (agent, id) => agent.halfClose(id),
  false,
);
