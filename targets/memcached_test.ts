import assert from "node:assert/strict";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import memcached from "./memcached.ts";
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
const ignore = installBlocker(memcached) !== undefined;
const VERSION = /^VERSION 1\.\d+\.\d+\r\n$/;

Deno.test({
  name: "memcached answers version, waits for a partial command, sends 70 MB, OS keepalive",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(memcached, family, async (rig) => {
        await assertRunsAs(rig, "memcache");
        const idle = await open(rig);
        await assertExchange(rig, idle, VERSION);
        await assertExchange(rig, idle, VERSION);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: true, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        await assertPartialWaits(rig, await open(rig));
        const txQueue = await assertLargeResponse(
          rig,
          await open(rig),
          /^VALUE big 0 1000000\r\nxxx/,
        );
        const readMs = await assertLargeResponseSize(rig, await open(rig));
        console.log(
          `memcached ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
      });
    }
    assert.match(await memcached.version!(), /^1\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "memcached@idle-timeout-30 answers",
  ignore,
  async fn() {
    await withTarget(selectVariant(memcached, "idle-timeout-30"), "v4", async (rig) => {
      await assertExchange(rig, await open(rig), VERSION);
    });
  },
});
