import assert from "node:assert/strict";
import { selectVariant } from "../lib/target/define_target.ts";
import { isInstalled } from "../lib/target/ensure_installed.ts";
import postgresql from "./postgresql.ts";
import { READY_FOR_QUERY_IDLE } from "./postgresql/frontend_message.ts";
import {
  assertExchange,
  assertLargeResponse,
  assertPartialWaits,
  assertRunsAs,
  open,
  type OpenConnection,
  OS_KEEPALIVE,
  serverSocketOptions,
  type TargetRig,
  withTarget,
} from "./testdata/target_checks.ts";

const ignore = !isInstalled(postgresql);
/** AuthenticationOk, the first message of a trusted session's start. */
const AUTH_OK = "R\0\0\0\x08\0\0\0\0S";

/**
 * The whole large reply arrives: the startup's reply, then exactly `responseBytes` bytes of
 * the query's reply, the last of them its ReadyForQuery, then nothing.
 */
async function assertWholeLargeReply(rig: TargetRig, connection: OpenConnection): Promise<void> {
  const large = postgresql.protocol.largeRequest!;
  const sent = await rig.agent.send(connection.conn, large.send);
  assert.ok(sent.ok);
  const startup = await rig.agent.read(connection.conn, { until: READY_FOR_QUERY_IDLE });
  assert.ok(startup.ok && startup.found, JSON.stringify(startup));
  const reply = await rig.agent.read(connection.conn, {
    bytes: large.responseBytes,
    timeoutMs: 10_000,
  });
  assert.ok(reply.ok && reply.bytes === large.responseBytes, JSON.stringify(reply.bytes));
  assert.ok(reply.head.startsWith("T\0\0\0\x1f\0\x01repeat\0"), JSON.stringify(reply.head));
  const more = await rig.agent.read(connection.conn, { bytes: 1, timeoutMs: 300 });
  assert.deepEqual([more.ok, more.bytes], [false, 0], "Bytes past the ReadyForQuery");
}

Deno.test({
  name: "postgresql starts sessions, waits for a partial startup, sends 100 MB, OS keepalive",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(postgresql, family, async (rig) => {
        console.log(`postgresql ${family}: ready after ${rig.server.readyMs.toFixed(0)} ms`);
        await assertRunsAs(rig, "postgres");
        const idle = await open(rig);
        await assertExchange(rig, idle, AUTH_OK);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: true, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        await assertPartialWaits(rig, await open(rig));
        const txQueue = await assertLargeResponse(rig, await open(rig), AUTH_OK);
        await assertWholeLargeReply(rig, await open(rig));
        console.log(`postgresql ${family}: send queue ${txQueue} bytes behind a stalled reader`);
      });
    }
    assert.match(await postgresql.version!(), /^15\.\d+$/);
  },
});

Deno.test({
  name: "postgresql@tcp-user-timeout-10s and @tcp-keepalives-60s set their socket options",
  ignore,
  async fn() {
    await withTarget(selectVariant(postgresql, "tcp-user-timeout-10s"), "v4", async (rig) => {
      const connection = await open(rig);
      await assertExchange(rig, connection, AUTH_OK);
      const options = await serverSocketOptions(rig, connection);
      assert.deepEqual([options.keepalive, options.userTimeoutMs], [true, 10_000]);
    });
    await withTarget(selectVariant(postgresql, "tcp-keepalives-60s"), "v4", async (rig) => {
      const connection = await open(rig);
      await assertExchange(rig, connection, AUTH_OK);
      const options = await serverSocketOptions(rig, connection);
      assert.deepEqual(
        [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
        [true, 60, 10, 3],
      );
    });
  },
});
