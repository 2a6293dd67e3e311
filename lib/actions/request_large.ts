/**
 * `requestLarge()`: asks for a response far larger than any socket buffer, and does not read
 * it; not applicable to a target whose protocol has no such request.
 *
 * @module
 */

import { defineSend, largeRequest } from "./_send.ts";

/** The step `request-large`. */
export const requestLargeAction = defineSend(
  "request-large",
  "the client asks for a response larger than any socket buffer and does not read it",
  (ctx) => largeRequest(ctx).send,
);
