import assert from "node:assert/strict";
import { monotonicMs } from "../lib/libc/libc.ts";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import lighttpd from "./lighttpd.ts";
import {
  assertExchange,
  assertLargeResponse,
  assertPartialWaits,
  closedAfter,
  open,
  OS_KEEPALIVE,
  serverClose,
  serverSocketOptions,
  withHttpTarget,
} from "./http/testdata/http_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(lighttpd) !== undefined;

// lighttpd counts whole seconds and a timeout of N s fires once more than N have passed:
// between N and N + 2 s after the last activity; 300 ms more covers scheduling in the lab.
const TICK_SLACK_MS = 2300;
// After shutting its side, lighttpd waits up to 5 s (HTTP_LINGER_TIMEOUT, whole seconds
// again) for the client's FIN before it closes the fd.
const LINGER_MS = 5000;

Deno.test({
  name: "lighttpd serves, waits for a partial request, sends a large file, no SO_KEEPALIVE",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withHttpTarget(lighttpd, family, async (rig) => {
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
        console.log(`lighttpd ${family}: send queue ${txQueue} bytes behind a stalled reader`);
      });
    }
    assert.match(await lighttpd.version!(), /^1\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "lighttpd closes an idle keep-alive connection after its 5 s max-keep-alive-idle",
  ignore,
  async fn() {
    await withHttpTarget(lighttpd, "v4", async (rig) => {
      const idle = await open(rig);
      // Taken before the request: no later than the activity lighttpd's idle clock counts from.
      const since = monotonicMs();
      await assertExchange(rig, idle);
      const closedMs = await closedAfter(rig, idle, since, 5000 + TICK_SLACK_MS + 1000);
      console.log(`lighttpd: idle connection closed after ${closedMs?.toFixed(0)} ms`);
      assert.ok(closedMs !== undefined && closedMs >= 5000 && closedMs <= 5000 + TICK_SLACK_MS);
    });
  },
});

Deno.test({
  name: "lighttpd@keep-alive-idle-60s keeps an idle keep-alive connection past 5 s",
  ignore,
  async fn() {
    await withHttpTarget(selectVariant(lighttpd, "keep-alive-idle-60s"), "v4", async (rig) => {
      const idle = await open(rig);
      await assertExchange(rig, idle);
      assert.equal(
        await closedAfter(rig, idle, monotonicMs(), 5000 + TICK_SLACK_MS + 500),
        undefined,
      );
      await assertExchange(rig, idle);
    });
  },
});

Deno.test({
  name: "lighttpd@write-idle-10s drops a reader that stopped reading after 10 s",
  ignore,
  async fn() {
    await withHttpTarget(selectVariant(lighttpd, "write-idle-10s"), "v4", async (rig) => {
      const connection = await open(rig);
      await assertExchange(rig, connection);
      await assertLargeResponse(rig, connection);
      const limit = 10_000 + TICK_SLACK_MS + LINGER_MS + TICK_SLACK_MS;
      const { shutMs, releasedMs } = await serverClose(rig, connection, monotonicMs(), limit);
      console.log(
        `lighttpd@write-idle-10s: shut at ${shutMs?.toFixed(0)} ms, released at ${
          releasedMs?.toFixed(0)
        } ms after the reader stalled`,
      );
      // The last write progress came moments before the watch began.
      assert.ok(shutMs !== undefined && shutMs >= 9500 && shutMs <= 10_000 + TICK_SLACK_MS);
      assert.ok(releasedMs !== undefined && releasedMs - shutMs <= LINGER_MS + TICK_SLACK_MS);
    });
  },
});
