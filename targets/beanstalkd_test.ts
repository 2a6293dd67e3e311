import assert from "node:assert/strict";
import { installBlocker } from "../lib/target/target_packages.ts";
import beanstalkd from "./beanstalkd.ts";
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
const ignore = installBlocker(beanstalkd) !== undefined;

const USING = /^USING default\r\n$/;

Deno.test({
  ignore,
  name: "beanstalkd answers list-tube-used, waits for a partial command, sends a 64 MiB job, " +
    "keepalive with the OS's timers",
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(beanstalkd, family, async (rig) => {
        await assertRunsAs(rig, "beanstalkd");
        const idle = await open(rig);
        await assertExchange(rig, idle, USING);
        await assertExchange(rig, idle, USING);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: true, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        await assertPartialWaits(rig, await open(rig));
        const txQueue = await assertLargeResponse(rig, await open(rig), /^FOUND 1 67108864\r\nx/);
        const readMs = await assertLargeResponseSize(rig, await open(rig));
        console.log(
          `beanstalkd ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
      });
    }
    assert.equal(await beanstalkd.version!(), "1.12");
  },
});
