/**
 * `keepReading()`: the client reads in the background over a slow link of its own, so the
 * server is still sending, with data in flight and its window open, when the client goes
 * down.
 *
 * @module
 */

import { slowLink } from "../faults/slow_link.ts";
import { FaultUnsupported } from "../faults/unsupported.ts";
import { connectionOf, defineAction, stepDone } from "./action.ts";
import { largeRequest } from "./_send.ts";

/** The client's link while it keeps reading: a WAN-like rate far below the lab's own. */
const READING_LINK_KBIT = 2000;
/** How long data flows before the next step may take the client down. */
const FLOWING_MS = 200;

/** The step `keep-reading`. */
export const keepReadingAction = defineAction({
  kind: "keep-reading",
  summary: "the client reads the large response in the background over a 2 Mbit/s link",
  actor: "client",
  run: async (ctx) => {
    const id = connectionOf(ctx, "keep-reading");
    const { responseBytes } = largeRequest(ctx);
    const link = await slowLink(ctx.lab, { rateKbit: READING_LINK_KBIT });
    if (link instanceof FaultUnsupported) throw link;
    const background = ctx.agent.read(id, { bytes: responseBytes, timeoutMs: ctx.scenarioMs })
      .catch(() => undefined); // the agent may be crashed meanwhile: that is the point
    await new Promise((resolve) => setTimeout(resolve, FLOWING_MS));
    return {
      ...stepDone("client", "keep-reading", link.t, {
        detail: `${READING_LINK_KBIT} kbit/s`,
        traffic: true,
      }),
      background,
    };
  },
});
