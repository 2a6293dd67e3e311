import assert from "node:assert/strict";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import caddy from "./caddy.ts";
import {
  assertElapsed,
  assertExchange,
  assertLargeResponse,
  assertPartialWaits,
  closedAfter,
  open,
  serverSocketOptions,
  spanOf,
  withHttpTarget,
} from "./http/testdata/http_checks.ts";
import { assertRunsAs } from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(caddy) !== undefined;

Deno.test({
  name: "caddy serves, waits for a partial request, sends a large file, Go's keepalive 15/15/9",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withHttpTarget(caddy, family, async (rig) => {
        await assertRunsAs(rig, "caddy");
        const idle = await open(rig);
        await assertExchange(rig, idle);
        await assertExchange(rig, idle); // keep-alive: the same connection serves again
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
          [true, 15, 15, 9],
        );
        assert.equal(options.userTimeoutMs, 0);
        await assertPartialWaits(rig, await open(rig));
        const txQueue = await assertLargeResponse(rig, await open(rig));
        console.log(`caddy ${family}: send queue ${txQueue} bytes behind a stalled reader`);
      });
    }
    assert.match(await caddy.version!(), /^2\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "caddy@timeouts-30s closes an idle keep-alive connection after 30 s",
  ignore,
  async fn() {
    await withHttpTarget(selectVariant(caddy, "timeouts-30s"), "v4", async (rig) => {
      const idle = await open(rig);
      const since = await spanOf(() => assertExchange(rig, idle));
      const closedMs = await closedAfter(rig, idle, since.from, 32_000);
      console.log(`caddy@timeouts-30s: idle connection closed after ${closedMs?.toFixed(0)} ms`);
      // Go's read deadline fires on time; 500 ms covers the lab.
      assertElapsed("idle close", closedMs, since, 29_900, 30_500);
    });
  },
});
