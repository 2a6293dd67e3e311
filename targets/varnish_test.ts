import assert from "node:assert/strict";
import { processTree } from "../lib/process/process_tree.ts";
import { run } from "../lib/process/spawn.ts";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import varnish from "./varnish.ts";
import {
  assertElapsed,
  assertExchange,
  assertLargeResponse,
  assertPartialWaits,
  closedAfter,
  open,
  serverClose,
  serverSocketOptions,
  spanOf,
  withHttpTarget,
} from "./http/testdata/http_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(varnish) !== undefined;

/** The uid of each process of the server's tree, by process name. */
function uidsByName(pid: number): Map<string, number> {
  const uids = new Map<string, number>();
  for (const member of processTree(pid)) {
    const status = Deno.readTextFileSync(`/proc/${member}/status`);
    const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? "";
    uids.set(name, Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]));
  }
  return uids;
}

Deno.test({
  name: "varnish serves through its backend, waits for a partial request, sends a large file",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withHttpTarget(varnish, family, async (rig) => {
        // The process that holds the connections runs as Debian's user for it.
        const uid = Number((await run(["id", "-u", "vcache"])).stdout.trim());
        assert.equal(uidsByName(rig.server.pid).get("cache-main"), uid);
        const idle = await open(rig);
        await assertExchange(rig, idle);
        await assertExchange(rig, idle); // keep-alive: the same connection serves again
        const options = await serverSocketOptions(rig, idle);
        console.log(`varnish ${family}: socket options ${JSON.stringify(options)}`);
        assert.deepEqual(
          [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
          [true, 7200, 75, 9],
        );
        assert.equal(options.userTimeoutMs, 0);
        await assertPartialWaits(rig, await open(rig));
        const txQueue = await assertLargeResponse(rig, await open(rig));
        console.log(`varnish ${family}: send queue ${txQueue} bytes behind a stalled reader`);
      });
    }
    assert.match(await varnish.version!(), /^7\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "varnish closes an idle connection and a partial request after timeout_idle 5 s",
  ignore,
  async fn() {
    await withHttpTarget(varnish, "v4", async (rig) => {
      const idle = await open(rig);
      const idleSince = await spanOf(() => assertExchange(rig, idle));
      const partial = await open(rig);
      // The partial request goes out first thing; the 300 ms wait for an answer follows.
      const partialSince = await spanOf(() => assertPartialWaits(rig, partial));
      partialSince.to -= 300;
      const [idleMs, partialMs] = await Promise.all([
        closedAfter(rig, idle, idleSince.from, 7000),
        closedAfter(rig, partial, partialSince.from, 7000),
      ]);
      console.log(
        `varnish: idle connection closed after ${idleMs?.toFixed(0)} ms, partial request after ${
          partialMs?.toFixed(0)
        } ms`,
      );
      // The waiter's timeouts are checked on its own schedule; 1 s covers it and the lab.
      assertElapsed("idle close", idleMs, idleSince, 4900, 6000);
      assertElapsed("partial request close", partialMs, partialSince, 4900, 6000);
    });
  },
});

Deno.test({
  name: "varnish@send-timeout-10 drops a reader that stopped reading after 10 s",
  ignore,
  async fn() {
    await withHttpTarget(selectVariant(varnish, "send-timeout-10"), "v4", async (rig) => {
      const connection = await open(rig);
      const since = await spanOf(() => assertLargeResponse(rig, connection));
      const { releasedMs } = await serverClose(rig, connection, since.from, 13_000);
      console.log(`varnish@send-timeout-10: released ${releasedMs?.toFixed(0)} ms after`);
      // The response began and stalled moments before the watch; SO_SNDTIMEO counts from the
      // last write that made progress, and by then send_timeout (10 s) has passed too.
      assertElapsed("release", releasedMs, since, 9000, 11_000);
    });
  },
});
