/**
 * `responseDelivered()`: the client read the whole response to the request it sent (after
 * its half-close, say).
 *
 * @module
 */

import { defineVerifier } from "./verifier.ts";

/** The data of a `response-delivered` expectation. */
export interface ResponseDelivered {
  kind: "response-delivered";
}

/** The verifier of `response-delivered`. */
export const responseDeliveredVerifier = defineVerifier({
  kind: "response-delivered",
  build: (): ResponseDelivered => ({ kind: "response-delivered" }),
  describe: () => "response delivered",
  watchMs: () => 0,
  judge(_e: ResponseDelivered, facts) {
    const response = facts.obs.exchanges.response;
    return response?.found
      ? { met: true, actual: `${response.bytes} bytes` }
      : { met: false, actual: response?.error ?? "incomplete" };
  },
  advice: () => "After a client's half-close (FIN), still send the full response before closing.",
});
