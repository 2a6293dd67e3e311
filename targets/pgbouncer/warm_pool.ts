/**
 * Run by the `pgbouncer` target's `prepare` in the server host: fills PgBouncer's pool to
 * `default_pool_size` before any scenario, so that what a scenario measures (the pooler's fds
 * and memory before and after dead clients) is not the pool growing to its steady size.
 * Opens that many sessions at once, each running a query that holds its server connection
 * for a moment, then ends them: the server connections stay in the pool, idle, for
 * `server_idle_timeout` (600 s). Usage: `warm_pool.ts ADDRESS PORT SESSIONS`. Exits 1 with
 * a message when a session fails.
 *
 * Permissions: `--allow-net`.
 *
 * @module
 */

import {
  queryMessage,
  READY_FOR_QUERY_IDLE,
  startupMessage,
} from "../postgresql/frontend_message.ts";

const encoder = new TextEncoder();
const READY = encoder.encode(READY_FOR_QUERY_IDLE);
/** Terminate: 'X' and its length. */
const TERMINATE = Uint8Array.of(0x58, 0, 0, 0, 4);

/** Writes all of `bytes` (a write may take only part of them). */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/** Reads until the bytes seen so far end with ReadyForQuery (idle), within `ms`. */
async function untilReady(conn: Deno.Conn, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const buffer = new Uint8Array(65536);
  let tail = new Uint8Array(0);
  while (Date.now() < deadline) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("The connection closed before ReadyForQuery");
    const seen = Uint8Array.from([...tail, ...buffer.subarray(0, n)]);
    tail = seen.slice(Math.max(0, seen.length - READY.length));
    if (tail.length === READY.length && tail.every((b, i) => b === READY[i])) return;
  }
  throw new Error(`No ReadyForQuery within "${ms}" ms`);
}

async function session(hostname: string, port: number): Promise<void> {
  const conn = await Deno.connect({ hostname, port });
  try {
    await writeAll(
      conn,
      encoder.encode(startupMessage({ user: "postgres", database: "postgres" })),
    );
    await untilReady(conn, 10_000);
    await writeAll(conn, encoder.encode(queryMessage("SELECT pg_sleep(0.5)")));
    await untilReady(conn, 10_000);
    await writeAll(conn, TERMINATE);
  } finally {
    conn.close();
  }
}

async function main([address, port, sessions]: string[]): Promise<number> {
  const count = Number(sessions);
  if (!address || !Number.isInteger(Number(port)) || !Number.isInteger(count) || count < 1) {
    console.error("Usage: warm_pool.ts ADDRESS PORT SESSIONS");
    return 2;
  }
  const results = await Promise.allSettled(
    Array.from({ length: count }, () => session(address, Number(port))),
  );
  const failed = results.filter((r) => r.status === "rejected");
  if (failed.length > 0) {
    console.error(
      `${failed.length} of ${count} sessions failed: ${
        (failed[0] as PromiseRejectedResult).reason
      }`,
    );
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
