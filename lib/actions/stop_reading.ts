/**
 * `stopReading()`: the client stops reading for good while its process runs on (a stuck
 * consumer). Its kernel goes on ACKing, with a zero window once the buffer is full.
 *
 * @module
 */

import { monotonicMs } from "../libc/libc.ts";
import { connectionOf, defineAction, stepDone } from "./action.ts";

/** The step `stop-reading`: ends a `keep-reading` if one runs; takes the client down. */
export const stopReadingAction = defineAction({
  kind: "stop-reading",
  summary: "the client stops reading; its kernel keeps ACKing with a shrinking window",
  actor: "client",
  takesClientDown: true,
  run: async (ctx) => {
    const id = connectionOf(ctx, "stop-reading");
    if (!ctx.background) {
      return stepDone("client", "stop-reading", monotonicMs(), { peer: "answers" });
    }
    const out = await ctx.agent.stopReading(id);
    return stepDone("client", "stop-reading", out.t, {
      ok: out.ok,
      peer: "answers",
      ...(out.ok ? {} : { error: out.error }),
    });
  },
});
