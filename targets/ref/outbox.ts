/**
 * Response bytes waiting to be written, with payloads generated as they go so a 64 MiB
 * response costs no memory.
 *
 * @module
 */

import type { ResponsePart } from "./line_protocol.ts";

/** Bytes handed to one write call at most. */
const CHUNK_BYTES = 256 * 1024;
const PAYLOAD = new Uint8Array(CHUNK_BYTES).fill("x".charCodeAt(0));

/** A queue of response parts, written front to back in chunks. */
export class Outbox {
  #parts: ResponsePart[] = [];
  /** Bytes of the front part already written. */
  #offset = 0;

  /** Whether nothing is left to write. */
  get empty(): boolean {
    return this.#parts.length === 0;
  }

  /** Queues the parts of one response. */
  push(parts: readonly ResponsePart[]): void {
    // A zero-byte payload would be a part that never drains.
    this.#parts.push(...parts.filter((part) => part !== 0));
  }

  /** The next bytes to write (at most one chunk), or undefined when empty. */
  next(): Uint8Array | undefined {
    const part = this.#parts[0];
    if (part === undefined) return undefined;
    if (typeof part === "number") {
      return PAYLOAD.subarray(0, Math.min(CHUNK_BYTES, part - this.#offset));
    }
    return part.subarray(this.#offset, this.#offset + CHUNK_BYTES);
  }

  /** Marks `bytes` of the front as written. */
  consume(bytes: number): void {
    const part = this.#parts[0];
    if (part === undefined) return;
    this.#offset += bytes;
    const size = typeof part === "number" ? part : part.byteLength;
    if (this.#offset >= size) {
      this.#parts.shift();
      this.#offset = 0;
    }
  }
}
