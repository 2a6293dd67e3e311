/**
 * Drives the line_client.ts fixture from a test: one fixture process (one connection) in the
 * lab's client host per LineClient.
 *
 * @module
 */

import type { Lab } from "../../../lib/lab/lab.ts";
import { type Child, spawn } from "../../../lib/process/spawn.ts";

const FIXTURE = decodeURIComponent(new URL("./line_client.ts", import.meta.url).pathname);

/** How a read or drain ended, as the fixture reported it. */
export interface ReadResult {
  /** `ok`: the awaited string came; `eof`/`error`: the peer ended the stream (FIN / RST). */
  outcome: "ok" | "timeout" | "eof" | "error";
  /** Milliseconds the read took, for `ok`, `eof` and `error` of a drain. */
  ms: number;
  /** When a drain ended (`eof`, `error`), on the monotonic clock every process shares. */
  at: number;
  /** Bytes up to and including the awaited string (`ok`), or received so far. */
  bytes: number;
  /** The errno name for `error`. */
  errno: string;
}

/** One connection from the client host, driven step by step. */
export class LineClient {
  readonly #child: Child;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffered = "";

  private constructor(child: Child) {
    this.#child = child;
    this.#writer = child.process.stdin.getWriter();
    this.#reader = child.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Connects from the client host to `address:port`. */
  static async connect(lab: Lab, address: string, port: number): Promise<LineClient> {
    const child = spawn([Deno.execPath(), "run", "--allow-all", FIXTURE, address, String(port)], {
      netns: lab.hosts.client,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    });
    const client = new LineClient(child);
    const first = await client.#line();
    if (first !== "connected") {
      await client.close();
      throw new Error(`Client could not connect to "${address}" port "${port}": ${first}`);
    }
    return client;
  }

  /** Sends bytes. */
  async send(text: string): Promise<void> {
    const reply = await this.#command(`send ${JSON.stringify(text)}`);
    if (reply !== "ok") throw new Error(`Send failed: ${reply}`);
  }

  /** Reads until `until` has arrived, the peer ends the stream, or `timeoutMs` passes. */
  async read(until: string, timeoutMs: number): Promise<ReadResult> {
    return parse(await this.#command(`read ${JSON.stringify(until)} ${timeoutMs}`), "read");
  }

  /** Reads and discards until the peer ends the stream (FIN or RST) or `timeoutMs` passes. */
  async drain(timeoutMs: number): Promise<ReadResult> {
    return parse(await this.#command(`drain ${timeoutMs}`), "drain");
  }

  /** Aborts the connection with RST (SO_LINGER {1,0}, close). */
  async abort(): Promise<void> {
    await this.#command("abort");
  }

  /** Ends the fixture process (its kernel closes the socket if still open). */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#reader.cancel();
    await this.#child.end();
  }

  async #command(line: string): Promise<string> {
    await this.#writer.write(new TextEncoder().encode(`${line}\n`));
    return await this.#line();
  }

  async #line(): Promise<string> {
    for (let end = this.#buffered.indexOf("\n"); end < 0; end = this.#buffered.indexOf("\n")) {
      const { value, done } = await this.#reader.read();
      if (done) return `fixture ended: ${this.#buffered}`;
      this.#buffered += value;
    }
    const end = this.#buffered.indexOf("\n");
    const line = this.#buffered.slice(0, end);
    this.#buffered = this.#buffered.slice(end + 1);
    return line;
  }
}

function parse(reply: string, kind: "read" | "drain"): ReadResult {
  const [outcome = "", ...fields] = reply.split(" ");
  if (outcome !== "ok" && outcome !== "timeout" && outcome !== "eof" && outcome !== "error") {
    throw new Error(`Unexpected reply from the client fixture: "${reply}"`);
  }
  const errno = outcome === "error" ? fields.shift() ?? "" : "";
  const numbers = fields.map(Number);
  // read replies carry "<ms> <bytes>" for ok, "<bytes>" otherwise; drain replies "<ms> <at>".
  if (kind === "drain") {
    return { outcome, ms: numbers[0] ?? NaN, at: numbers[1] ?? NaN, bytes: 0, errno };
  }
  if (outcome === "ok") {
    return { outcome, ms: numbers[0] ?? NaN, at: NaN, bytes: numbers[1] ?? 0, errno };
  }
  return { outcome, ms: NaN, at: NaN, bytes: numbers[0] ?? 0, errno };
}
