/**
 * Run by the `rabbitmq` target's `prepare` in the server host: logs in over STOMP and
 * publishes the messages the large request reads into a stream queue (declared by the first
 * SEND), then disconnects, waiting for the broker's receipt. A stream is read without being
 * consumed: every subscriber that starts at its first offset gets every message again.
 * Usage: `fill_stream.ts ADDRESS PORT`. Exits 1 with a message when the broker refuses.
 *
 * Permissions: `--allow-net`.
 *
 * @module
 */

import { MESSAGE_BYTES, MESSAGES, STREAM_DESTINATION } from "./stream.ts";

const encoder = new TextEncoder();

function frame(command: string, headers: Record<string, string>, body = ""): Uint8Array {
  const lines = Object.entries(headers).map(([name, value]) => `${name}:${value}\n`).join("");
  return encoder.encode(`${command}\n${lines}\n${body}\0`);
}

/** Writes all of `bytes` (a write may take only part of them). */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/** Reads until `marker` has arrived, within `ms`; returns what was read as text. */
async function readUntil(conn: Deno.Conn, marker: string, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(65536);
  let text = "";
  while (Date.now() < deadline) {
    const timer = setTimeout(() => conn.close(), Math.max(1, deadline - Date.now()));
    const n = await conn.read(buffer).finally(() => clearTimeout(timer));
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
    if (text.includes(marker)) return text;
    if (text.startsWith("ERROR")) break;
  }
  throw new Error(
    `No "${JSON.stringify(marker)}" from the broker: ${JSON.stringify(text.slice(0, 300))}`,
  );
}

async function main([address, port]: string[]): Promise<number> {
  if (!address || !Number.isInteger(Number(port))) {
    console.error("Usage: fill_stream.ts ADDRESS PORT");
    return 2;
  }
  const conn = await Deno.connect({ hostname: address, port: Number(port) });
  try {
    await writeAll(
      conn,
      frame("CONNECT", {
        "accept-version": "1.2",
        host: "/",
        login: "guest",
        passcode: "guest",
      }),
    );
    await readUntil(conn, "CONNECTED", 10_000);
    const body = "x".repeat(MESSAGE_BYTES);
    for (let i = 0; i < MESSAGES; i++) {
      await writeAll(
        conn,
        frame("SEND", {
          destination: STREAM_DESTINATION,
          "x-queue-type": "stream",
          "content-length": String(MESSAGE_BYTES),
        }, body),
      );
    }
    // A receipt on a SEND would be stored with the message as one of its headers: ask for it on
    // the DISCONNECT instead, which the broker answers once it has handled every frame before.
    await writeAll(conn, frame("DISCONNECT", { receipt: "filled" }));
    await readUntil(conn, "receipt-id:filled", 30_000);
    return 0;
  } catch (error) {
    console.error(`Could not fill the stream: ${error instanceof Error ? error.message : error}`);
    return 1;
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the read timer
    }
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
