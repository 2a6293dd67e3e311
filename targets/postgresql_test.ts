import assert from "node:assert/strict";
import { LivenessProbe, type LivenessSample } from "../lib/client/liveness_probe.ts";
import { selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import postgresql from "./postgresql.ts";
import {
  assertExchange,
  assertLargeResponse,
  assertLargeResponseSize,
  assertPartialWaits,
  assertRunsAs,
  open,
  type OpenConnection,
  OS_KEEPALIVE,
  serverSocketOptions,
  type TargetRig,
  withTarget,
} from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(postgresql) !== undefined;
/** AuthenticationOk, the first message of a trusted session's start. */
const AUTH_OK = "R\0\0\0\x08\0\0\0\0S";
/** RowDescription of `SELECT 1`: one column named "?column?". */
const ONE_COLUMN = "T\0\0\0\x21\0\x01?column?\0";
/** RowDescription of the large query: one column named "repeat". */
const REPEAT_COLUMN = "T\0\0\0\x1f\0\x01repeat\0";

/** Starts the session on `connection` with the target's greeting, as the runner does. */
async function greet(rig: TargetRig, connection: OpenConnection): Promise<OpenConnection> {
  const greeting = rig.target.protocol.greeting!;
  assert.ok((await rig.agent.send(connection.conn, greeting.send)).ok);
  const read = await rig.agent.read(connection.conn, { until: greeting.until, timeoutMs: 2000 });
  assert.ok(read.ok && read.found, `greeting: ${JSON.stringify(read)}`);
  assert.ok(read.head.startsWith(AUTH_OK), JSON.stringify(read.head));
  return connection;
}

/** The liveness probe as the runner starts it for this target, for `exchanges` exchanges. */
async function probe(rig: TargetRig, exchanges: number): Promise<LivenessSample[]> {
  const { protocol } = rig.target;
  const started = await LivenessProbe.start(rig.lab, {
    address: rig.server.address,
    port: rig.server.port,
    exchange: protocol.request,
    ...(protocol.greeting ? { greeting: protocol.greeting } : {}),
    fresh: protocol.oneRequestPerConnection === true,
    intervalMs: 50,
    timeoutMs: 1000,
  });
  // Each exchange ends well within its 1000 ms: the loop ends on the count.
  for (let i = 0; i < exchanges * 20 && started.samples.length < exchanges; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return await started.stop();
}

Deno.test({
  name: "postgresql repeats a query in one session, waits for a partial one, sends 100 MB",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(postgresql, family, async (rig) => {
        console.log(`postgresql ${family}: ready after ${rig.server.readyMs.toFixed(0)} ms`);
        await assertRunsAs(rig, "postgres");
        const idle = await greet(rig, await open(rig));
        await assertExchange(rig, idle, ONE_COLUMN);
        await assertExchange(rig, idle, ONE_COLUMN);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: true, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        await assertPartialWaits(rig, await greet(rig, await open(rig)));
        const txQueue = await assertLargeResponse(
          rig,
          await greet(rig, await open(rig)),
          REPEAT_COLUMN,
        );
        // Exactly responseBytes, then nothing: the count ends with the ReadyForQuery.
        const readMs = await assertLargeResponseSize(rig, await greet(rig, await open(rig)));
        console.log(
          `postgresql ${family}: send queue ${txQueue} bytes behind a stalled reader; ` +
            `whole response read in ${readMs.toFixed(0)} ms`,
        );
      });
    }
    assert.match(await postgresql.version!(), /^15\.\d+$/);
  },
});

Deno.test({
  name: "postgresql: a failed query does not pass for the request's answer",
  ignore,
  async fn() {
    await withTarget(postgresql, "v4", async (rig) => {
      const session = await greet(rig, await open(rig));
      // The same message with a typo: ErrorResponse, then ReadyForQuery, and no CommandComplete.
      const typo = (postgresql.protocol.request.send as string).replace("SELECT", "SELEKT");
      assert.ok((await rig.agent.send(session.conn, typo)).ok);
      const read = await rig.agent.read(session.conn, {
        until: postgresql.protocol.request.until,
        timeoutMs: 1000,
      });
      assert.ok(!read.ok && read.error === "ETIMEDOUT" && read.head.startsWith("E"), read.head);
    });
  },
});

Deno.test({
  name: "postgresql serves the bystander's repeated queries, and stops at once with a session open",
  ignore,
  async fn() {
    await withTarget(postgresql, "v4", async (rig) => {
      const session = await greet(rig, await open(rig));
      const samples = await probe(rig, 10);
      const failed = samples.filter((s) => !s.ok).map((s) => s.error);
      console.log(`bystander: ${samples.length} exchanges, failed: [${failed.join(", ")}]`);
      assert.ok(samples.length >= 10, `${samples.length} exchanges`);
      assert.deepEqual(failed, []);
      // One session for all of them: the request is repeatable.
      assert.deepEqual(samples.map((s) => s.reconnected), samples.map((_, i) => i === 0));

      // The stop signal is SIGINT, a fast shutdown: the open session does not hold it up until
      // the SIGKILL stop() sends after 1 s (SIGTERM's smart shutdown would wait for it).
      const status = await rig.server.stop();
      assert.deepEqual([status.code, status.signal], [0, null]);
      const closed = await rig.agent.read(session.conn, { timeoutMs: 2000 });
      assert.ok(closed.ok && closed.eof, JSON.stringify(closed));
    });
  },
});

Deno.test({
  name: "postgresql@tcp-user-timeout-10s and @tcp-keepalives-60s set their socket options",
  ignore,
  async fn() {
    await withTarget(selectVariant(postgresql, "tcp-user-timeout-10s"), "v4", async (rig) => {
      const connection = await greet(rig, await open(rig));
      await assertExchange(rig, connection, ONE_COLUMN);
      const options = await serverSocketOptions(rig, connection);
      assert.deepEqual([options.keepalive, options.userTimeoutMs], [true, 10_000]);
    });
    await withTarget(selectVariant(postgresql, "tcp-keepalives-60s"), "v4", async (rig) => {
      const connection = await greet(rig, await open(rig));
      await assertExchange(rig, connection, ONE_COLUMN);
      const options = await serverSocketOptions(rig, connection);
      assert.deepEqual(
        [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
        [true, 60, 10, 3],
      );
    });
  },
});
