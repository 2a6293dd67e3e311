/**
 * `readResponse()`: reads the response of the request sent before; what it found is evidence
 * for `responseDelivered`.
 *
 * @module
 */

import { connectionOf, defineAction, READ_RESPONSE_MS, stepDone } from "./action.ts";

/** The step `read-response`. */
export const readResponseAction = defineAction({
  kind: "read-response",
  summary: "the client reads the response of the request sent before",
  actor: "client",
  run: async (ctx) => {
    const out = await ctx.agent.read(connectionOf(ctx, "read-response"), {
      until: ctx.target.protocol.request.until,
      timeoutMs: READ_RESPONSE_MS,
    });
    // A read that ended without the response's end: the server closed its side first.
    const error = out.ok
      ? out.found
        ? undefined
        : `the server closed its side after ${out.bytes} byte(s), before the end of the response`
      : out.error;
    return {
      ...stepDone("client", "read-response", out.t, {
        ok: out.ok && out.found,
        traffic: true,
        ...(error === undefined ? {} : { error }),
      }),
      response: { found: out.ok && out.found, bytes: out.bytes, ...(error ? { error } : {}) },
    };
  },
});
