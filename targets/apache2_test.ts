import assert from "node:assert/strict";
import { monotonicMs } from "../lib/libc/libc.ts";
import { processTree } from "../lib/process/process_tree.ts";
import { findServerFd } from "../lib/observe/testdata/server_fd.ts";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import apache2 from "./apache2.ts";
import {
  assertElapsed,
  assertExchange,
  assertLargeResponse,
  assertPartialWaits,
  closedAfter,
  type HttpRig,
  open,
  type OpenConnection,
  OS_KEEPALIVE,
  serverClose,
  serverSocketOptions,
  spanOf,
  withHttpTarget,
} from "./http/testdata/http_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(apache2) !== undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid of Apache's process that holds the connection, if any does. */
function heldBy(rig: HttpRig, connection: OpenConnection): number | undefined {
  return processTree(rig.server.pid).find((pid) =>
    findServerFd(pid, connection.peer, rig.server.port) !== undefined
  );
}

Deno.test({
  name: "apache2 serves from its children, waits for a partial request, sends a large file",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withHttpTarget(apache2, family, async (rig) => {
        const idle = await open(rig);
        // AcceptFilter http data: nothing is accepted before the client's first bytes.
        await sleep(300);
        assert.equal(heldBy(rig, idle), undefined);
        await assertExchange(rig, idle);
        await assertExchange(rig, idle); // keep-alive: the same connection serves again
        const holder = heldBy(rig, idle);
        assert.ok(holder !== undefined && holder !== rig.server.pid, `Held by "${holder}"`);
        // Apache sets SO_KEEPALIVE on its listeners and leaves the timers to the OS.
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: true, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        await assertPartialWaits(rig, await open(rig));
        const txQueue = await assertLargeResponse(rig, await open(rig));
        console.log(`apache2 ${family}: send queue ${txQueue} bytes behind a stalled reader`);
      });
    }
    assert.match(await apache2.version!(), /^2\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "apache2 closes an idle keep-alive connection after its 5 s KeepAliveTimeout",
  ignore,
  async fn() {
    await withHttpTarget(apache2, "v4", async (rig) => {
      const idle = await open(rig);
      const since = await spanOf(() => assertExchange(rig, idle));
      const closedMs = await closedAfter(rig, idle, since.from, 7000);
      console.log(`apache2: idle connection closed after ${closedMs?.toFixed(0)} ms`);
      // The event MPM starts the timer once it has written the response, a little before the
      // client has read it, and expires its queues up to 100 ms early (TIMEOUT_FUDGE_FACTOR):
      // 200 ms early at most; 1 s late covers its listener's wake-ups and the lab.
      assertElapsed("idle close", closedMs, since, 4800, 6000);
    });
  },
});

Deno.test({
  name: "apache2@timeout-10 drops a reader that stopped reading after 10 s",
  ignore,
  async fn() {
    await withHttpTarget(selectVariant(apache2, "timeout-10"), "v4", async (rig) => {
      const connection = await open(rig);
      await assertExchange(rig, connection);
      await assertLargeResponse(rig, connection);
      const { shutMs, releasedMs } = await serverClose(rig, connection, monotonicMs(), 13_000);
      console.log(
        `apache2@timeout-10: shut at ${shutMs?.toFixed(0)} ms, released at ${
          releasedMs?.toFixed(0)
        } ms after the reader stalled`,
      );
      // The window closed moments before the watch began; Apache's poll timeout runs from its
      // last write progress: 10 s, give or take 1 s for its wake-ups and the lab.
      assert.ok(releasedMs !== undefined && releasedMs >= 9000 && releasedMs <= 11_000);
    });
  },
});
