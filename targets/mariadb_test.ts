import assert from "node:assert/strict";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import mariadb from "./mariadb.ts";
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

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(mariadb) !== undefined;

/** The OK packet that answers COM_PING. */
const PONG = "\x07\0\0\x01\0\0\0\x02\0\0\0";
/** The column count (1) and the start of the column definition of the large result. */
const ONE_COLUMN = "\x01\0\0\x01\x01\x17\0\0\x02\x03def";

/** Logs in on `connection` with the target's greeting, as the runner does. */
async function greet(rig: TargetRig, connection: OpenConnection): Promise<OpenConnection> {
  const greeting = rig.target.protocol.greeting!;
  assert.ok((await rig.agent.send(connection.conn, greeting.send)).ok);
  const read = await rig.agent.read(connection.conn, { until: greeting.until, timeoutMs: 5000 });
  assert.ok(read.ok && read.found, `greeting: ${JSON.stringify(read)}`);
  // The server's handshake: protocol 10, then its version.
  assert.match(read.head, /^.\0\0\0\n5\.5\.5-10\.11\.\d+-MariaDB/);
  return connection;
}

Deno.test({
  ignore,
  name: "mariadb logs in, answers COM_PING, waits for a partial query, sends 70 MB, " +
    "keepalive with the OS's timers",
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(mariadb, family, async (rig) => {
        console.log(`mariadb ${family}: ready after ${rig.server.readyMs.toFixed(0)} ms`);
        await assertRunsAs(rig, "mysql");
        const idle = await greet(rig, await open(rig));
        await assertExchange(rig, idle, PONG);
        await assertExchange(rig, idle, PONG);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: true, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        await assertPartialWaits(rig, await greet(rig, await open(rig)));
        const txQueue = await assertLargeResponse(
          rig,
          await greet(rig, await open(rig)),
          ONE_COLUMN,
        );
        // Exactly responseBytes, then nothing: the count ends with the last EOF packet.
        const readMs = await assertLargeResponseSize(rig, await greet(rig, await open(rig)));
        console.log(
          `mariadb ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
      });
    }
    assert.match(await mariadb.version!(), /^10\.11\.\d+-MariaDB/);
  },
});

Deno.test({
  ignore,
  name: "mariadb@tcp-keepalive-60 sets keepalive 60/10/3; mariadb@wait-timeout-30 answers",
  async fn() {
    await withTarget(selectVariant(mariadb, "tcp-keepalive-60"), "v4", async (rig) => {
      const connection = await greet(rig, await open(rig));
      await assertExchange(rig, connection, PONG);
      const options = await serverSocketOptions(rig, connection);
      assert.deepEqual(
        [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
        [true, 60, 10, 3],
      );
    });
    await withTarget(selectVariant(mariadb, "wait-timeout-30"), "v4", async (rig) => {
      await assertExchange(rig, await greet(rig, await open(rig)), PONG);
    });
  },
});
