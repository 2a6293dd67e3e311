/**
 * `sendRequest()`: the small request, without reading the response.
 *
 * @module
 */

import { defineSend } from "./_send.ts";

/** The step `send-request`. */
export const sendRequestAction = defineSend(
  "send-request",
  "the client sends the small request and does not read the response",
  (ctx) => ctx.target.protocol.request.send,
);
