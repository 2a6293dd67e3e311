/**
 * `crash()`: the client process is SIGKILLed; its kernel closes its sockets (FIN, or RST with
 * unread data) and answers anything more with RST.
 *
 * @module
 */

import { defineAction, stepDone } from "./action.ts";

/** The step `crash`. */
export const crashAction = defineAction({
  kind: "crash",
  summary: "the client process is killed (SIGKILL): its kernel closes the sockets",
  actor: "client-host",
  takesClientDown: true,
  endsWithSegment: true,
  needsHolder: true,
  run: async (ctx) =>
    stepDone("client-host", "crash", await ctx.agent.crash(), {
      detail: "SIGKILL",
      peer: "resets",
    }),
});
