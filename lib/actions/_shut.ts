/**
 * What the closing steps share: one call on the connection under test whose wire effect is
 * the client's FIN or RST.
 *
 * @module
 */

import type { StepAgent } from "./action.ts";
import { type Action, connectionOf, defineAction, stepDone } from "./action.ts";

/**
 * A step that shuts the connection under test with `call`. After a close or an abort the
 * client's kernel answers the server's data with RST (`resets`); after a half-close it still
 * reads.
 */
export function defineShut<Kind extends string>(
  kind: Kind,
  summary: string,
  call: (agent: StepAgent, id: number) => ReturnType<StepAgent["close"]>,
  resets: boolean,
): Action<Kind, { kind: Kind }> {
  return defineAction<Kind>({
    kind,
    summary,
    actor: "client",
    takesClientDown: true,
    endsWithSegment: true,
    run: async (ctx) => {
      const out = await call(ctx.agent, connectionOf(ctx, kind));
      return stepDone("client", kind, out.t, {
        ok: out.ok,
        ...(resets ? { peer: "resets" as const } : {}),
        ...(out.ok ? {} : { error: out.error }),
      });
    },
  });
}
