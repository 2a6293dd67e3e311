import assert from "node:assert/strict";
import { isInstalled } from "../lib/target/ensure_installed.ts";
import mosquitto from "./mosquitto.ts";
import { asciiOnly, CONNACK_ACCEPTED, connectPacket } from "./mosquitto/mqtt_packets.ts";
import {
  assertExchange,
  assertLargeResponse,
  assertLargeResponseSize,
  assertPartialWaits,
  assertRunsAs,
  open,
  serverSocketOptions,
  withTarget,
} from "./testdata/target_checks.ts";

const ignore = !isInstalled(mosquitto);
const CONNACK = asciiOnly(CONNACK_ACCEPTED);
/** CONNACK with "session present", then the first byte of a QoS 1 PUBLISH. */
const QUEUED_MESSAGE = "\x20\x02\x01\x00\x32";

Deno.test({
  name: "mosquitto answers CONNECT, waits for a partial one, sends a 64 MiB queued message",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(mosquitto, family, async (rig) => {
        await assertRunsAs(rig, "mosquitto");
        const idle = await open(rig);
        await assertExchange(rig, idle, CONNACK);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual([options.keepalive, options.userTimeoutMs], [false, 0]);
        await assertPartialWaits(rig, await open(rig));
        const txQueue = await assertLargeResponse(rig, await open(rig), QUEUED_MESSAGE);
        // The message is never acknowledged, so resuming the session again gets it again.
        const readMs = await assertLargeResponseSize(rig, await open(rig));
        console.log(
          `mosquitto ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
      });
    }
    assert.match(await mosquitto.version!(), /^2\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "mosquitto drops a client silent for 1.5 × its keep alive, and a second CONNECT",
  ignore,
  async fn() {
    await withTarget(mosquitto, "v4", async (rig) => {
      const keepAliveS = 2;
      const short = await open(rig);
      const connect = connectPacket({ clientId: "", cleanSession: true, keepAliveS });
      assert.ok((await rig.agent.send(short.conn, asciiOnly(connect))).ok);
      const connack = await rig.agent.read(short.conn, { until: CONNACK, timeoutMs: 2000 });
      assert.ok(connack.ok && connack.found);
      const closed = await rig.agent.read(short.conn, { timeoutMs: 8000 });
      assert.ok(closed.ok && closed.eof, `closed: ${JSON.stringify(closed)}`);
      const silentMs = closed.t - connack.t;
      console.log(`keep alive ${keepAliveS} s: closed after ${silentMs.toFixed(0)} ms of silence`);
      // More than 1.5 × 2 s in whole seconds (4 s), seen by a scan every 6 s: 3 to 10 s. The
      // 100 ms and 500 ms margins cover the agent's and the loop's wake-ups.
      assert.ok(silentMs >= 2900 && silentMs <= 10_500, `closed after ${silentMs} ms`);
      const log = await Deno.readTextFile(rig.server.logPath);
      assert.match(log, /has exceeded timeout, disconnecting/);

      const again = await open(rig);
      await assertExchange(rig, again, CONNACK);
      assert.ok((await rig.agent.send(again.conn, mosquitto.protocol.request.send)).ok);
      const refused = await rig.agent.read(again.conn, { timeoutMs: 2000 });
      assert.ok(refused.ok && refused.eof && refused.bytes === 0, JSON.stringify(refused));
    });
  },
});
