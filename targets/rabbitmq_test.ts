import assert from "node:assert/strict";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import rabbitmq from "./rabbitmq.ts";
import {
  assertExchange,
  assertLargeResponse,
  assertLargeResponseSize,
  assertPartialWaits,
  assertRunsAs,
  open,
  type OpenConnection,
  serverSocketOptions,
  type TargetRig,
  withTarget,
} from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(rabbitmq) !== undefined;

const RECEIPT = /^RECEIPT\nreceipt-id:r\n\n\0\n$/;

/** Sends the target's CONNECT on `connection`, as the runner does. */
async function greet(rig: TargetRig, connection: OpenConnection): Promise<OpenConnection> {
  const greeting = rig.target.protocol.greeting!;
  assert.ok((await rig.agent.send(connection.conn, greeting.send)).ok);
  const read = await rig.agent.read(connection.conn, { until: greeting.until, timeoutMs: 5000 });
  assert.ok(read.ok && read.found, `greeting: ${JSON.stringify(read)}`);
  assert.match(read.head, /^CONNECTED\nserver:RabbitMQ\/3\.10\.\d+\nsession:session-[\w-]{22}\n/);
  return connection;
}

Deno.test({
  ignore,
  name: "rabbitmq answers a STOMP SEND with its receipt, waits for a partial frame, reads " +
    "a 64 MiB stream, no keepalive",
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(rabbitmq, family, async (rig) => {
        console.log(`rabbitmq ${family}: ready after ${rig.server.readyMs.toFixed(0)} ms`);
        await assertRunsAs(rig, "rabbitmq");
        const idle = await greet(rig, await open(rig));
        await assertExchange(rig, idle, RECEIPT);
        await assertExchange(rig, idle, RECEIPT);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual([options.keepalive, options.userTimeoutMs], [false, 0]);
        await assertPartialWaits(rig, await greet(rig, await open(rig)));
        const txQueue = await assertLargeResponse(
          rig,
          await greet(rig, await open(rig)),
          /^MESSAGE\nsubscription:big\ndestination:\/queue\/clientdown\.big\n/,
        );
        // Exactly responseBytes, then nothing: the stream's 64 messages again (it is not
        // consumed by the stalled reader), tags 1 to 64.
        const readMs = await assertLargeResponseSize(rig, await greet(rig, await open(rig)));
        console.log(
          `rabbitmq ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
      });
    }
    assert.match(await rabbitmq.version!(), /^3\.10\.\d+$/);
  },
});

Deno.test({
  ignore,
  name: "rabbitmq@heartbeat-10s closes a client that sends no heart-beat 30 s after its CONNECT",
  async fn() {
    await withTarget(selectVariant(rabbitmq, "heartbeat-10s"), "v4", async (rig) => {
      const connection = await greet(rig, await open(rig));
      const quiet = await rig.agent.read(connection.conn, { bytes: 1, timeoutMs: 1 });
      const read = await rig.agent.read(connection.conn, { timeoutMs: 40_000 });
      const afterMs = read.t - quiet.t;
      console.log(`rabbitmq@heartbeat-10s: ${JSON.stringify(read)} after ${afterMs} ms`);
      assert.ok(read.ok && read.eof, JSON.stringify(read));
      // Checked every 10 s from the CONNECT on; the first check saw the CONNECT, the next two
      // saw nothing.
      assert.ok(afterMs >= 29_000 && afterMs < 32_000, `${afterMs} ms`);
    });
  },
});
