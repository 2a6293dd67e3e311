/**
 * `sendPartial()`: the first bytes of a request and nothing more.
 *
 * @module
 */

import { defineSend } from "./_send.ts";

/** The step `send-partial`. */
export const sendPartialAction = defineSend(
  "send-partial",
  "the client sends the first bytes of a request and nothing more",
  (ctx) => ctx.target.protocol.partialRequest,
);
