/**
 * `exchange()`: the target's small request, and its whole response read.
 *
 * @module
 */

import { exchangeOn } from "../client/exchange.ts";
import { connectionOf, defineAction, HarnessError } from "./action.ts";

/** The step `exchange`: a failed exchange before the fault is the harness's problem. */
export const exchangeAction = defineAction({
  kind: "exchange",
  summary: "the client sends the small request and reads the whole response",
  actor: "client",
  run: async (ctx) => {
    const id = connectionOf(ctx, "exchange");
    const done = await exchangeOn(ctx.agent, id, "exchange", ctx.target.protocol.request);
    if (!done.ok) {
      throw new HarnessError(
        `The target did not answer its request before the fault: ${done.error}`,
      );
    }
    return { records: [done] };
  },
});
