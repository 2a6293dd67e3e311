import assert from "node:assert/strict";
import { selectVariant } from "../lib/target/define_target.ts";
import { ensureInstalled } from "../lib/target/ensure_installed.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import pgbouncer from "./pgbouncer.ts";
import postgresql from "./postgresql.ts";
import {
  assertExchange,
  assertLargeResponse,
  assertLargeResponseSize,
  assertPartialWaits,
  assertRunsAs,
  open,
  type OpenConnection,
  OS_KEEPALIVE,
  serverSocketOptions,
  type TargetRig,
  withTarget,
} from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the servers; else they are installed first
// (withTarget installs pgbouncer; the PostgreSQL behind it is the postgresql target's package).
const ignore = installBlocker(pgbouncer) !== undefined || installBlocker(postgresql) !== undefined;
const withPostgresql = () => ensureInstalled(postgresql, (line) => console.error(line));

/** AuthenticationOk, the first message of a trusted session's start. */
const AUTH_OK = "R\0\0\0\x08\0\0\0\0S";
/** RowDescription of `SELECT 1`: one column named "?column?". */
const ONE_COLUMN = "T\0\0\0\x21\0\x01?column?\0";
/** RowDescription of the large query: one column named "repeat". */
const REPEAT_COLUMN = "T\0\0\0\x1f\0\x01repeat\0";

/** Starts the session on `connection` with the target's greeting, as the runner does. */
async function greet(rig: TargetRig, connection: OpenConnection): Promise<OpenConnection> {
  const greeting = rig.target.protocol.greeting!;
  assert.ok((await rig.agent.send(connection.conn, greeting.send)).ok);
  const read = await rig.agent.read(connection.conn, { until: greeting.until, timeoutMs: 5000 });
  assert.ok(read.ok && read.found, `greeting: ${JSON.stringify(read)}`);
  assert.ok(read.head.startsWith(AUTH_OK), JSON.stringify(read.head));
  return connection;
}

Deno.test({
  ignore,
  name: "pgbouncer relays a query, waits for a partial one, relays 100 MB, keepalive with the " +
    "OS's timers",
  async fn() {
    await withPostgresql();
    for (const family of ["v4", "v6"] as const) {
      await withTarget(pgbouncer, family, async (rig) => {
        console.log(`pgbouncer ${family}: ready after ${rig.server.readyMs.toFixed(0)} ms`);
        await assertRunsAs(rig, "postgres");
        const idle = await greet(rig, await open(rig));
        await assertExchange(rig, idle, ONE_COLUMN);
        await assertExchange(rig, idle, ONE_COLUMN);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: true, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        await assertPartialWaits(rig, await greet(rig, await open(rig)));
        const txQueue = await assertLargeResponse(
          rig,
          await greet(rig, await open(rig)),
          REPEAT_COLUMN,
        );
        const readMs = await assertLargeResponseSize(rig, await greet(rig, await open(rig)));
        console.log(
          `pgbouncer ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
      });
    }
    assert.match(await pgbouncer.version!(), /^1\.\d+\.\d+$/);
  },
});

Deno.test({
  ignore,
  name: "pgbouncer@tcp-user-timeout-10s sets TCP_USER_TIMEOUT; @client-idle-timeout-30 answers",
  async fn() {
    await withPostgresql();
    await withTarget(selectVariant(pgbouncer, "tcp-user-timeout-10s"), "v4", async (rig) => {
      const connection = await greet(rig, await open(rig));
      await assertExchange(rig, connection, ONE_COLUMN);
      const options = await serverSocketOptions(rig, connection);
      assert.deepEqual([options.keepalive, options.userTimeoutMs], [true, 10_000]);
    });
    await withTarget(selectVariant(pgbouncer, "client-idle-timeout-30"), "v4", async (rig) => {
      await assertExchange(rig, await greet(rig, await open(rig)), ONE_COLUMN);
    });
  },
});

Deno.test({
  ignore,
  name: "pgbouncer@transaction-idle-timeout-30 closes a client idle 30 s after its query",
  async fn() {
    await withPostgresql();
    const target = selectVariant(pgbouncer, "transaction-idle-timeout-30");
    await withTarget(target, "v4", async (rig) => {
      const connection = await greet(rig, await open(rig));
      await assertExchange(rig, connection, ONE_COLUMN);
      const quiet = await rig.agent.read(connection.conn, { bytes: 1, timeoutMs: 1 });
      const read = await rig.agent.read(connection.conn, { timeoutMs: 40_000 });
      const afterMs = read.t - quiet.t;
      console.log(`pgbouncer@transaction-idle-timeout-30: closed after ${afterMs.toFixed(0)} ms`);
      assert.ok(read.ok && read.eof && read.head.includes("client_idle_timeout"), read.head);
      // The janitor looks about every second.
      assert.ok(afterMs >= 29_000 && afterMs < 32_000, `${afterMs} ms`);
    });
  },
});
