/**
 * What the three sending steps share: bytes sent on the connection under test, no reading.
 *
 * @module
 */

import { EXCHANGE_MS } from "../client/exchange.ts";
import type { Payload } from "../target/define_target.ts";
import {
  type Action,
  connectionOf,
  defineAction,
  HarnessError,
  NotApplicable,
  type StepContext,
  stepDone,
} from "./action.ts";

/** A step that sends `data(ctx)` on the connection under test and reads nothing. */
export function defineSend<Kind extends string>(
  kind: Kind,
  summary: string,
  data: (ctx: StepContext) => Payload,
): Action<Kind, { kind: Kind }> {
  return defineAction<Kind>({
    kind,
    summary,
    actor: "client",
    run: async (ctx) => {
      const id = connectionOf(ctx, kind);
      const out = await ctx.agent.send(id, data(ctx), { timeoutMs: EXCHANGE_MS });
      if (!out.ok) throw new HarnessError(`Step "${kind}" failed: ${out.error}`);
      return stepDone("client", kind, out.t, { traffic: true });
    },
  });
}

/** The target's request with a large response, or NotApplicable when it has none. */
export function largeRequest(ctx: StepContext) {
  const large = ctx.target.protocol.largeRequest;
  if (!large) {
    throw new NotApplicable(`Target "${ctx.target.id}" has no request with a large response`);
  }
  return large;
}
