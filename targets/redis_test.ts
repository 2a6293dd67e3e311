import assert from "node:assert/strict";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import redis from "./redis.ts";
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

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(redis) !== undefined;
const PONG = /^\+PONG\r\n$/;

Deno.test({
  name:
    "redis answers PING, waits for a partial command, sends a 64 MiB value, keepalive 300/100/3",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(redis, family, async (rig) => {
        await assertRunsAs(rig, "redis");
        const idle = await open(rig);
        await assertExchange(rig, idle, PONG);
        await assertExchange(rig, idle, PONG);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
          [true, 300, 100, 3],
        );
        assert.equal(options.userTimeoutMs, 0);
        await assertPartialWaits(rig, await open(rig));
        const txQueue = await assertLargeResponse(rig, await open(rig), /^\$67108864\r\n\0/);
        const readMs = await assertLargeResponseSize(rig, await open(rig));
        console.log(
          `redis ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
      });
    }
    assert.match(await redis.version!(), /^7\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "redis@keepalive-60 sets keepalive 60/20/3; redis@timeout-30 answers",
  ignore,
  async fn() {
    await withTarget(selectVariant(redis, "keepalive-60"), "v4", async (rig) => {
      const connection = await open(rig);
      await assertExchange(rig, connection, PONG);
      const options = await serverSocketOptions(rig, connection);
      assert.deepEqual(
        [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
        [true, 60, 20, 3],
      );
    });
    await withTarget(selectVariant(redis, "timeout-30"), "v4", async (rig) => {
      await assertExchange(rig, await open(rig), PONG);
    });
  },
});
