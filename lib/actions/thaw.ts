/**
 * `thaw()`: a frozen client process resumes (SIGCONT).
 *
 * @module
 */

import { defineAction, stepDone } from "./action.ts";

/** The step `thaw`. */
export const thawAction = defineAction({
  kind: "thaw",
  summary: "the stopped client process resumes (SIGCONT)",
  actor: "client-host",
  needsHolder: true,
  run: async (ctx) =>
    stepDone("client-host", "thaw", await ctx.agent.thaw(), { detail: "SIGCONT", peer: "answers" }),
});
