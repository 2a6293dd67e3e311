import assert from "node:assert/strict";
import { monotonicMs } from "../lib/libc/libc.ts";
import { run } from "../lib/process/spawn.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import h2o from "./h2o.ts";
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
import { processStatuses } from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(h2o) !== undefined;

/** The uid of each process of the server's tree, by process name. */
function uidsByName(pid: number): Map<string, number> {
  const uids = new Map<string, number>();
  for (const status of processStatuses(pid).values()) {
    const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? "";
    uids.set(name, Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]));
  }
  return uids;
}

Deno.test({
  name: "h2o serves, waits for a partial request, sends a large file, no SO_KEEPALIVE",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withHttpTarget(h2o, family, async (rig) => {
        // The process that holds the connections runs as Debian's user for it. h2o listens
        // before it drops root: wait (bounded) for the drop rather than catch it before.
        const uid = Number((await run(["id", "-u", "debian-h2o"])).stdout.trim());
        for (let i = 0; i < 500 && uidsByName(rig.server.pid).get("h2o") !== uid; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal(uidsByName(rig.server.pid).get("h2o"), uid);
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
        console.log(`h2o ${family}: send queue ${txQueue} bytes behind a stalled reader`);
      });
    }
    assert.match(await h2o.version!(), /^2\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "h2o closes an idle keep-alive connection and a partial request after 10 s",
  ignore,
  async fn() {
    await withHttpTarget(h2o, "v4", async (rig) => {
      const idle = await open(rig);
      const idleSince = await spanOf(() => assertExchange(rig, idle));
      const partial = await open(rig);
      // The partial request goes out first thing; the 300 ms wait for an answer follows.
      const partialSince = await spanOf(() => assertPartialWaits(rig, partial));
      partialSince.to -= 300;
      const stalled = await open(rig);
      await assertLargeResponse(rig, stalled);
      const stalledClose = serverClose(rig, stalled, monotonicMs(), 12_000);
      const [idleMs, partialMs] = await Promise.all([
        closedAfter(rig, idle, idleSince.from, 12_000),
        closedAfter(rig, partial, partialSince.from, 12_000),
      ]);
      const { releasedMs } = await stalledClose;
      console.log(
        `h2o: idle connection closed after ${idleMs?.toFixed(0)} ms, partial request after ${
          partialMs?.toFixed(0)
        } ms; stalled reader released: ${releasedMs?.toFixed(0)}`,
      );
      // h2o's timers run on its event loop's coarse clock; 1 s covers it and the lab.
      assertElapsed("idle close", idleMs, idleSince, 9500, 11_000);
      assertElapsed("partial request close", partialMs, partialSince, 9500, 11_000);
      // No send timeout: the stalled reader is still held.
      assert.equal(releasedMs, undefined);
    });
  },
});
