import assert from "node:assert/strict";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import vsftpd from "./vsftpd.ts";
import {
  assertExchange,
  assertPartialWaits,
  open,
  type OpenConnection,
  OS_KEEPALIVE,
  serverSocketOptions,
  type TargetRig,
  withTarget,
} from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(vsftpd) !== undefined;

const FEATURES = /^211-Features:\r\n[^]* SIZE\r\n[^]*211 End\r\n$/;

/** Sends the target's greeting on `connection`, as the runner does: the banner, then FEAT. */
async function greet(rig: TargetRig, connection: OpenConnection): Promise<OpenConnection> {
  const greeting = rig.target.protocol.greeting!;
  assert.ok((await rig.agent.send(connection.conn, greeting.send)).ok);
  const read = await rig.agent.read(connection.conn, { until: greeting.until, timeoutMs: 2000 });
  assert.ok(read.ok && read.found, `greeting: ${JSON.stringify(read)}`);
  assert.match(read.head, /^220 \(vsFTPd 3\.0\.\d+\)\r\n211-Features:/);
  return connection;
}

Deno.test({
  ignore,
  name: "vsftpd answers FEAT before login, waits for a partial command, keepalive with the " +
    "OS's timers",
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(vsftpd, family, async (rig) => {
        const idle = await greet(rig, await open(rig));
        await assertExchange(rig, idle, FEATURES);
        await assertExchange(rig, idle, FEATURES);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: true, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        await assertPartialWaits(rig, await greet(rig, await open(rig)));
        assert.equal(vsftpd.protocol.largeRequest, undefined);
      });
    }
    assert.match(await vsftpd.version!(), /^3\.0\.\d+$/);
  },
});

Deno.test({
  ignore,
  name: "vsftpd@idle-30 ends a session left with a partial command after 30 s",
  async fn() {
    await withTarget(selectVariant(vsftpd, "idle-30"), "v4", async (rig) => {
      const connection = await greet(rig, await open(rig));
      const sent = await rig.agent.send(connection.conn, rig.target.protocol.partialRequest);
      assert.ok(sent.ok);
      const read = await rig.agent.read(connection.conn, { timeoutMs: 35_000 });
      const afterMs = read.t - sent.t;
      console.log(`vsftpd@idle-30: ${JSON.stringify(read.ok && read.head)} after ${afterMs} ms`);
      assert.ok(read.ok && read.eof && read.head === "421 Timeout.\r\n", JSON.stringify(read));
      assert.ok(afterMs >= 29_900 && afterMs < 31_000, `${afterMs} ms`);
    });
  },
});
