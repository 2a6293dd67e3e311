/**
 * `abort()`: `SO_LINGER {1,0}` and `close()`, an RST.
 *
 * @module
 */

import { defineShut } from "./_shut.ts";

/** The step `abort`. */
export const abortAction = defineShut(
  "abort",
  "the client aborts: RST (SO_LINGER 0)",
  (agent, id) => agent.abort(id),
  true,
);
