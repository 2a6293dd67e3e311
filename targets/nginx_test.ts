import assert from "node:assert/strict";
import { monotonicMs } from "../lib/libc/libc.ts";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import nginx from "./nginx.ts";
import {
  assertExchange,
  assertLargeResponse,
  assertPartialWaits,
  open,
  OS_KEEPALIVE,
  serverClose,
  serverSocketOptions,
  withHttpTarget,
} from "./http/testdata/http_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(nginx) !== undefined;

Deno.test({
  name: "nginx serves, waits for a partial request, sends a large file, no SO_KEEPALIVE",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withHttpTarget(nginx, family, async (rig) => {
        const idle = await open(rig);
        await assertExchange(rig, idle);
        await assertExchange(rig, idle); // keep-alive: the same connection serves again
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: false, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        await assertPartialWaits(rig, await open(rig));
        const txQueue = await assertLargeResponse(rig, await open(rig));
        console.log(`nginx ${family}: send queue ${txQueue} bytes behind a stalled reader`);
      });
    }
    assert.match(await nginx.version!(), /^1\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "nginx@so-keepalive sets keepalive 30/10/3 on accepted sockets",
  ignore,
  async fn() {
    await withHttpTarget(selectVariant(nginx, "so-keepalive"), "v4", async (rig) => {
      const connection = await open(rig);
      await assertExchange(rig, connection);
      const options = await serverSocketOptions(rig, connection);
      assert.deepEqual(
        [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
        [true, 30, 10, 3],
      );
    });
  },
});

Deno.test({
  name: "nginx@send-timeout-10s drops a reader that stopped reading after 10 s",
  ignore,
  async fn() {
    await withHttpTarget(selectVariant(nginx, "send-timeout-10s"), "v4", async (rig) => {
      const connection = await open(rig);
      await assertExchange(rig, connection);
      await assertLargeResponse(rig, connection);
      const { shutMs, releasedMs } = await serverClose(rig, connection, monotonicMs(), 13_000);
      console.log(
        `nginx@send-timeout-10s: shut at ${shutMs?.toFixed(0)} ms, released at ${
          releasedMs?.toFixed(0)
        } ms after the reader stalled`,
      );
      // The window closed moments before the watch began; nginx's timer runs from its last
      // write progress and fires within its event loop's granularity: 10 s, give or take 1 s.
      // It closes the fd at once (no lingering close after a timeout).
      assert.ok(releasedMs !== undefined && releasedMs >= 9000 && releasedMs <= 11_000);
      assert.equal(shutMs, releasedMs);
    });
  },
});
