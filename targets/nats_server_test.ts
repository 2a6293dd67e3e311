import assert from "node:assert/strict";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import natsServer from "./nats_server.ts";
import {
  assertElapsed,
  assertExchange,
  assertLargeResponse,
  assertLargeResponseSize,
  assertPartialWaits,
  assertRunsAs,
  open,
  type OpenConnection,
  OS_KEEPALIVE,
  serverSocketOptions,
  spanOf,
  type TargetRig,
  withTarget,
} from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(natsServer) !== undefined;

const PONG = /^PONG\r\n$/;

/** Sends the target's greeting on `connection`, as the runner does: INFO, then PONG. */
async function greet(rig: TargetRig, connection: OpenConnection): Promise<OpenConnection> {
  const greeting = rig.target.protocol.greeting!;
  assert.ok((await rig.agent.send(connection.conn, greeting.send)).ok);
  const read = await rig.agent.read(connection.conn, { until: greeting.until, timeoutMs: 2000 });
  assert.ok(read.ok && read.found, `greeting: ${JSON.stringify(read)}`);
  assert.match(read.head, /^INFO \{"server_id":/);
  return connection;
}

Deno.test({
  ignore,
  name: "nats-server answers PING, waits for a partial PUB, sends a 1 MiB message 64 times, " +
    "no keepalive, a PING 2 s after CONNECT",
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(natsServer, family, async (rig) => {
        await assertRunsAs(rig, "nats");
        // The first PING's clock starts as the server takes the connection.
        let idle: OpenConnection | undefined;
        const greeted = await spanOf(async () => idle = await greet(rig, await open(rig)));
        assert.ok(idle);
        await assertExchange(rig, idle, PONG);
        await assertExchange(rig, idle, PONG);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: false, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        // The round-trip PING comes 2 to 2.4 s after CONNECT, whatever the traffic.
        const ping = await rig.agent.read(idle.conn, { until: "PING\r\n", timeoutMs: 3000 });
        assert.ok(ping.ok && ping.found, JSON.stringify(ping));
        assertElapsed("first PING", ping.t - greeted.from, greeted, 1900, 2600);
        await assertPartialWaits(rig, await greet(rig, await open(rig)));
        const stalled = await greet(rig, await open(rig));
        const txQueue = await assertLargeResponse(
          rig,
          stalled,
          /^MSG clientdown\.big \d\d 1048543\r\nx/,
        );
        // Its subscriptions not yet served would share the next connection's message.
        assert.ok((await rig.agent.abort(stalled.conn)).ok);
        const readMs = await assertLargeResponseSize(rig, await greet(rig, await open(rig)));
        console.log(
          `nats-server ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
      });
    }
    assert.match(await natsServer.version!(), /^2\.9\.\d+$/);
  },
});

Deno.test({
  ignore,
  name: "nats-server@ping-20s sends its second PING 20 s after the first",
  async fn() {
    await withTarget(selectVariant(natsServer, "ping-20s"), "v4", async (rig) => {
      const connection = await greet(rig, await open(rig));
      const first = await rig.agent.read(connection.conn, { until: "PING\r\n", timeoutMs: 3000 });
      assert.ok(first.ok && first.found, JSON.stringify(first));
      const second = await rig.agent.read(connection.conn, {
        until: "PING\r\n",
        timeoutMs: 25_000,
      });
      assert.ok(second.ok && second.found, JSON.stringify(second));
      const afterMs = second.t - first.t;
      console.log(`nats-server@ping-20s: second PING ${afterMs.toFixed(0)} ms after the first`);
      assert.ok(afterMs >= 19_900 && afterMs < 20_500, `${afterMs} ms`);
    });
  },
});
