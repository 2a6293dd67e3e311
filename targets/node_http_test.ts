import assert from "node:assert/strict";
import { run } from "../lib/process/spawn.ts";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import nodeHttp from "./node_http.ts";
import {
  assertElapsed,
  assertExchange,
  assertLargeResponse,
  assertPartialWaits,
  closedAfter,
  open,
  OS_KEEPALIVE,
  serverClose,
  serverSocketOptions,
  spanOf,
  withHttpTarget,
} from "./http/testdata/http_checks.ts";
import { assertRunsAs } from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(nodeHttp) !== undefined;

Deno.test({
  name: "node-http serves, waits for a partial request, sends a large file, no SO_KEEPALIVE",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withHttpTarget(nodeHttp, family, async (rig) => {
        await assertRunsAs(rig, "nobody");
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
        console.log(`node-http ${family}: send queue ${txQueue} bytes behind a stalled reader`);
      });
    }
    assert.match(await nodeHttp.version!(), /^\d+\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "node-http's installed Node has the documented server defaults",
  ignore,
  async fn() {
    const probe = "const s = require('node:http').createServer(); console.log(JSON.stringify(" +
      "[s.keepAliveTimeout, s.headersTimeout, s.requestTimeout, s.timeout, s.maxRequestsPerSocket]))";
    const { stdout } = await run(["/usr/bin/node", "-e", probe]);
    assert.deepEqual(JSON.parse(stdout), [5000, 60_000, 300_000, 0, 0]);
  },
});

Deno.test({
  name:
    "node-http closes an idle keep-alive connection after keepAliveTimeout (5 s; 6 s in Node 20)",
  ignore,
  async fn() {
    const major = Number((await nodeHttp.version!()).split(".")[0]);
    // Node 20 adds HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER (1000 ms); Debian 12's Node 18 does not.
    const expectedMs = major >= 20 ? 6000 : 5000;
    await withHttpTarget(nodeHttp, "v4", async (rig) => {
      const idle = await open(rig);
      const since = await spanOf(() => assertExchange(rig, idle));
      const closedMs = await closedAfter(rig, idle, since.from, expectedMs + 2000);
      console.log(
        `node-http (Node ${major}): idle connection closed after ${closedMs?.toFixed(0)} ms`,
      );
      // A libuv timer: on time within the event loop's granularity; 500 ms covers the lab.
      assertElapsed("idle close", closedMs, since, expectedMs - 100, expectedMs + 500);
    });
  },
});

Deno.test({
  name: "node-http@timeout-30s drops a partial request after 30 s without activity",
  ignore,
  async fn() {
    await withHttpTarget(selectVariant(nodeHttp, "timeout-30s"), "v4", async (rig) => {
      const connection = await open(rig);
      // The partial request goes out first thing; the 300 ms wait for an answer follows.
      const since = await spanOf(() => assertPartialWaits(rig, connection));
      since.to -= 300;
      const { shutMs, releasedMs } = await serverClose(rig, connection, since.from, 32_000);
      console.log(
        `node-http@timeout-30s: partial request shut at ${shutMs?.toFixed(0)} ms, released at ${
          releasedMs?.toFixed(0)
        } ms`,
      );
      // Nothing is written, so the socket's timer fires once, on time; 1 s covers the lab.
      assertElapsed("release", releasedMs, since, 29_500, 31_000);
    });
  },
});
