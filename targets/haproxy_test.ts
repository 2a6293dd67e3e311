import assert from "node:assert/strict";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import haproxy from "./haproxy.ts";
import {
  assertExchange,
  assertLargeResponse,
  assertLargeResponseSize,
  assertPartialWaits,
  assertRunsAs,
  open,
  OS_KEEPALIVE,
  serverSocketOptions,
  withTarget,
} from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(haproxy) !== undefined;
const OK = /^HTTP\/1\.1 200 OK\r\n/;
// haproxy does not keep the order in which the Lua service added its headers.
const LARGE =
  /^HTTP\/1\.1 200 OK\r\n(?=[^]*content-type: application\/octet-stream\r\n)(?=[^]*content-length: 67108864\r\n)/;
/** What the large-response check reads before it looks at the send queue. */
const HEAD_READ = 512;
/** Longer than tune.lua.service-timeout (4 s), which must not end a service that waits. */
const STALL_MS = 4500;

Deno.test({
  name: "haproxy answers on a keep-alive connection, waits for a partial request, streams 64 MiB",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(haproxy, family, async (rig) => {
        await assertRunsAs(rig, "haproxy");
        const idle = await open(rig);
        await assertExchange(rig, idle, OK);
        await assertExchange(rig, idle, OK);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual([options.keepalive, options.userTimeoutMs], [false, 0]);
        await assertPartialWaits(rig, await open(rig));
        const stalled = await open(rig);
        const txQueue = await assertLargeResponse(rig, stalled, LARGE);
        const readMs = await assertLargeResponseSize(rig, await open(rig));
        console.log(
          `haproxy ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
        await new Promise((resolve) => setTimeout(resolve, STALL_MS));
        const rest = haproxy.protocol.largeRequest!.responseBytes - HEAD_READ;
        const resumed = await rig.agent.read(stalled.conn, { bytes: rest, timeoutMs: 10_000 });
        assert.ok(resumed.ok && resumed.bytes === rest, "The stalled response resumes in full");
        const log = await Deno.readTextFile(rig.server.logPath);
        assert.match(log, /missing timeouts for frontend 'clientdown'/);
      });
    }
    assert.match(await haproxy.version!(), /^2\.\d+\.\d+/);
  },
});

Deno.test({
  name: "haproxy's variants answer; clitcpka sets SO_KEEPALIVE with the OS timers",
  ignore,
  async fn() {
    await withTarget(selectVariant(haproxy, "clitcpka"), "v4", async (rig) => {
      const connection = await open(rig);
      await assertExchange(rig, connection, OK);
      const options = await serverSocketOptions(rig, connection);
      assert.deepEqual(
        [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
        [true, OS_KEEPALIVE.keepIdleS, OS_KEEPALIVE.keepIntvlS, OS_KEEPALIVE.keepCnt],
      );
    });
    for (const name of ["timeout-client-30s", "debian-timeouts"]) {
      await withTarget(selectVariant(haproxy, name), "v4", async (rig) => {
        const connection = await open(rig);
        await assertExchange(rig, connection, OK);
        const options = await serverSocketOptions(rig, connection);
        assert.equal(options.keepalive, false);
        const log = await Deno.readTextFile(rig.server.logPath);
        assert.doesNotMatch(log, /missing timeouts/, "haproxy warns only without timeout client");
      });
    }
  },
});
