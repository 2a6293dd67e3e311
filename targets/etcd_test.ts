import assert from "node:assert/strict";
import { installBlocker } from "../lib/target/target_packages.ts";
import etcd from "./etcd.ts";
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
const ignore = installBlocker(etcd) !== undefined;

const VERSION = /^HTTP\/1\.1 200 OK\r\n[^]*Content-Length: 45\r\n\r\n\{"etcdserver":"3\.4\.\d+",/;

Deno.test({
  ignore,
  name: "etcd answers GET /version, waits for a partial request, sends a 68 MB range, " +
    "keepalive 30/30/9",
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(etcd, family, async (rig) => {
        console.log(`etcd ${family}: ready and loaded after ${rig.server.readyMs.toFixed(0)} ms`);
        await assertRunsAs(rig, "etcd");
        const idle = await open(rig);
        await assertExchange(rig, idle, VERSION);
        await assertExchange(rig, idle, VERSION);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
          [true, 30, 30, 9],
        );
        assert.equal(options.userTimeoutMs, 0);
        await assertPartialWaits(rig, await open(rig));
        const txQueue = await assertLargeResponse(
          rig,
          await open(rig),
          /^HTTP\/1\.1 200 OK\r\n[^]*Transfer-Encoding: chunked\r\n\r\n40dab55\r\n\{"header":/,
        );
        // Exactly responseBytes, then nothing: the last chunk ends the count.
        const readMs = await assertLargeResponseSize(rig, await open(rig));
        console.log(
          `etcd ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
      });
    }
    assert.match(await etcd.version!(), /^3\.4\.\d+$/);
  },
});
