/**
 * The reference servers' line protocol. Each request is one line ending in `\n`:
 *
 * | request | response |
 * |---|---|
 * | `PING` | `PONG\n` |
 * | `BIG <n>` | n bytes of `x`, then `\nEND\n` |
 * | anything else | `ERR\n` |
 *
 * Bytes without a newline yet are a partial request: the server waits for the rest.
 *
 * @module
 */

/** What follows the payload of a `BIG` response. */
export const BIG_TRAILER = "\nEND\n";

/** Payloads larger than this are refused with `ERR` (a 15-digit count is safe in a double). */
const BIG_REQUEST = /^BIG (\d{1,15})$/;

const encoder = new TextEncoder();
const PONG = encoder.encode("PONG\n");
const ERR = encoder.encode("ERR\n");
const TRAILER = encoder.encode(BIG_TRAILER);

/** One part of a response: literal bytes, or a count of payload bytes to generate. */
export type ResponsePart = Uint8Array | number;

/**
 * The response to one request line (without its `\n`).
 *
 * @example
 * ```ts
 * import { respond } from "./line_protocol.ts";
 * respond("BIG 3"); // [3, Uint8Array("\nEND\n")]
 * ```
 */
export function respond(line: string): ResponsePart[] {
  if (line === "PING") return [PONG];
  const big = BIG_REQUEST.exec(line);
  if (big) return [Number(big[1]), TRAILER];
  return [ERR];
}

/**
 * Splits complete lines off the front of `input`; returns them (without `\n`) and the bytes
 * left over, which are a partial request.
 */
export function takeLines(input: Uint8Array): { lines: string[]; rest: Uint8Array } {
  const decoder = new TextDecoder();
  const lines: string[] = [];
  let start = 0;
  for (let end = input.indexOf(10); end >= 0; end = input.indexOf(10, start)) {
    lines.push(decoder.decode(input.subarray(start, end)));
    start = end + 1;
  }
  return { lines, rest: input.slice(start) };
}
