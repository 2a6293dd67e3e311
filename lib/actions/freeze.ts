/**
 * `freeze()`: the client process is SIGSTOPped; its kernel still ACKs and answers probes, and
 * its buffers fill.
 *
 * @module
 */

import { defineAction, stepDone } from "./action.ts";

/** The step `freeze`. */
export const freezeAction = defineAction({
  kind: "freeze",
  summary: "the client process is stopped (SIGSTOP): its kernel keeps ACKing",
  actor: "client-host",
  takesClientDown: true,
  needsHolder: true,
  run: async (ctx) =>
    stepDone("client-host", "freeze", await ctx.agent.freeze(), {
      detail: "SIGSTOP",
      peer: "answers",
    }),
});
