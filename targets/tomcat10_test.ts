import assert from "node:assert/strict";
import { installBlocker } from "../lib/target/target_packages.ts";
import tomcat from "./tomcat10.ts";
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
const ignore = installBlocker(tomcat) !== undefined;

Deno.test({
  name: "tomcat10 serves, waits for a partial request, sends a large file, no SO_KEEPALIVE",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withHttpTarget(tomcat, family, async (rig) => {
        await assertRunsAs(rig, "tomcat");
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
        console.log(
          `tomcat10 ${family}: ready in ${rig.server.readyMs.toFixed(0)} ms; ` +
            `send queue ${txQueue} bytes behind a stalled reader`,
        );
      });
    }
    assert.match(await tomcat.version!(), /^10\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "tomcat10 drops an idle connection, a partial request and a stalled reader after 20 s",
  ignore,
  async fn() {
    await withHttpTarget(tomcat, "v4", async (rig) => {
      const idle = await open(rig);
      const idleSince = await spanOf(() => assertExchange(rig, idle));
      const partial = await open(rig);
      // The partial request goes out first thing; the 300 ms wait for an answer follows.
      const partialSince = await spanOf(() => assertPartialWaits(rig, partial));
      partialSince.to -= 300;
      const stalled = await open(rig);
      const stalledSince = await spanOf(() => assertLargeResponse(rig, stalled));
      const stalledClose = serverClose(rig, stalled, stalledSince.from, 23_000);
      const [idleMs, partialMs] = await Promise.all([
        closedAfter(rig, idle, idleSince.from, 23_000),
        closedAfter(rig, partial, partialSince.from, 23_000),
      ]);
      const { releasedMs } = await stalledClose;
      console.log(
        `tomcat10: idle connection closed after ${idleMs?.toFixed(0)} ms, partial request after ${
          partialMs?.toFixed(0)
        } ms, stalled reader released after ${releasedMs?.toFixed(0)} ms`,
      );
      // The poller checks timeouts about once a second; 1.5 s covers it and the lab.
      assertElapsed("idle close", idleMs, idleSince, 19_000, 21_500);
      assertElapsed("partial request close", partialMs, partialSince, 19_000, 21_500);
      assertElapsed("stalled reader's release", releasedMs, stalledSince, 19_000, 21_500);
    });
  },
});
