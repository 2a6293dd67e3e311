import assert from "node:assert/strict";
import { monotonicMs } from "../lib/libc/libc.ts";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import gunicorn from "./gunicorn.ts";
import {
  assertElapsed,
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
const ignore = installBlocker(gunicorn) !== undefined;
const OK = "HTTP/1.1 200 OK\r\n";

Deno.test({
  name: "gunicorn answers once per connection, sends a large file, no SO_KEEPALIVE",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withHttpTarget(gunicorn, family, async (rig) => {
        await assertRunsAs(rig, "nobody");
        const connection = await open(rig);
        const options = await serverSocketOptions(rig, connection);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: false, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        const { request } = rig.target.protocol;
        assert.ok((await rig.agent.send(connection.conn, request.send)).ok);
        const read = await rig.agent.read(connection.conn, { until: request.until });
        assert.ok(read.ok && read.found && read.head.startsWith(OK), JSON.stringify(read));
        assert.match(read.head, /\r\nConnection: close\r\n/i);
        // The sync worker closes the connection right after its response.
        const closedMs = await closedAfter(rig, connection, read.t, 1000);
        assert.ok(closedMs !== undefined, "The connection stayed open after the response");
        const txQueue = await assertLargeResponse(rig, await open(rig));
        console.log(`gunicorn ${family}: send queue ${txQueue} bytes behind a stalled reader`);
      });
    }
    assert.match(await gunicorn.version!(), /^\d+\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "gunicorn@timeout-10 kills the worker stuck on a partial request after 10 s",
  ignore,
  async fn() {
    await withHttpTarget(selectVariant(gunicorn, "timeout-10"), "v4", async (rig) => {
      // The worker notifies the arbiter just before it accepts: taken before the connection
      // is opened, `since` is no later than that.
      const since = monotonicMs();
      const partial = await open(rig);
      await assertPartialWaits(rig, partial);
      // The only worker is busy: another client is not answered meanwhile.
      const other = await open(rig);
      const { request } = rig.target.protocol;
      assert.ok((await rig.agent.send(other.conn, request.send)).ok);
      const { releasedMs } = await serverClose(rig, partial, since, 15_000);
      const answered = await rig.agent.read(other.conn, { until: request.until, timeoutMs: 5000 });
      const answeredMs = answered.t - since;
      console.log(
        `gunicorn@timeout-10: partial request released after ${releasedMs?.toFixed(0)} ms; ` +
          `the other client answered after ${answeredMs.toFixed(0)} ms`,
      );
      assert.ok(answered.ok && answered.found, JSON.stringify(answered));
      // The arbiter kills a worker whose last notification (its tmp file's ctime) is over 10 s
      // old, and checks once a second: 10 to 11 s after the notification. Tolerance: the ctime
      // comes from the kernel's coarse clock, up to one tick (10 ms at HZ=100) early; above,
      // 2 s for the worker's exit and a busy lab.
      assert.ok(
        releasedMs !== undefined && releasedMs >= 9_990 && releasedMs <= 13_000,
        `released after ${releasedMs} ms`,
      );
      assert.ok(answeredMs >= releasedMs);
    });
  },
});

Deno.test({
  name: "gunicorn@gthread keeps a connection alive and closes it after keepalive 2 s",
  ignore,
  async fn() {
    await withHttpTarget(selectVariant(gunicorn, "gthread"), "v4", async (rig) => {
      const idle = await open(rig);
      const { request } = rig.target.protocol;
      let since = { from: 0, to: 0 };
      for (let i = 0; i < 2; i++) {
        since = await spanOf(async () => {
          assert.ok((await rig.agent.send(idle.conn, request.send)).ok);
          const read = await rig.agent.read(idle.conn, { until: request.until, timeoutMs: 2000 });
          assert.ok(read.ok && read.found && !read.eof, JSON.stringify(read));
        });
      }
      const closedMs = await closedAfter(rig, idle, since.from, 5000);
      console.log(`gunicorn@gthread: idle connection closed after ${closedMs?.toFixed(0)} ms`);
      // The worker's loop looks at keep-alive deadlines about once a second.
      assertElapsed("idle close", closedMs, since, 1900, 3500);
    });
  },
});
