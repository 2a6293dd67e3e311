import assert from "node:assert/strict";
import { monotonicMs } from "../lib/libc/libc.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import unbound from "./unbound.ts";
import {
  assertElapsed,
  assertExchange,
  assertPartialWaits,
  assertRunsAs,
  open,
  OS_KEEPALIVE,
  serverSocketOptions,
  spanOf,
  withTarget,
} from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(unbound) !== undefined;
/**
 * The answer's header as the agent decodes it (UTF-8): the length, id "cd", flags 0x85 0x80
 * (QR, AA, RD; RA; NOERROR: two bytes that are not UTF-8, each read as U+FFFD), one question,
 * one answer.
 */
// deno-lint-ignore no-control-regex -- DNS counts are binary
const ANSWER = /^[^]{2}cd\uFFFD{2}\x00\x01\x00\x01/;

Deno.test({
  name: "unbound answers a TXT query over TCP twice on one connection, waits for a partial one",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(unbound, family, async (rig) => {
        await assertRunsAs(rig, "unbound");
        const idle = await open(rig);
        await assertExchange(rig, idle, ANSWER);
        await assertExchange(rig, idle, ANSWER);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          { ...options, rtoMaxMs: 0 },
          { keepalive: false, ...OS_KEEPALIVE, userTimeoutMs: 0, rtoMaxMs: 0 },
        );
        await assertPartialWaits(rig, await open(rig));
      });
    }
    assert.match(await unbound.version!(), /^1\.\d+\.\d+$/);
  },
});

Deno.test({
  name: "unbound closes an idle connection and a partial query after tcp-idle-timeout 30 s",
  ignore,
  async fn() {
    await withTarget(unbound, "v4", async (rig) => {
      const idle = await open(rig);
      const idleSince = await spanOf(() => assertExchange(rig, idle, ANSWER));
      const partial = await open(rig);
      // The partial query goes out first thing; the 300 ms wait for an answer follows.
      const partialSince = await spanOf(() => assertPartialWaits(rig, partial));
      partialSince.to -= 300;
      const [idleRead, partialRead] = await Promise.all([
        rig.agent.read(idle.conn, { timeoutMs: 33_000 }),
        rig.agent.read(partial.conn, { timeoutMs: 33_000 }),
      ]);
      const idleMs = idleRead.t - idleSince.from;
      const partialMs = partialRead.t - partialSince.from;
      console.log(
        `unbound: idle connection closed after ${idleMs.toFixed(0)} ms, partial query after ${
          partialMs.toFixed(0)
        } ms`,
      );
      assert.ok(idleRead.ok && idleRead.eof && partialRead.ok && partialRead.eof);
      // libevent timers: on time; 1 s covers the lab.
      assertElapsed("idle close", idleMs, idleSince, 29_500, 31_000);
      assertElapsed("partial query close", partialMs, partialSince, 29_500, 31_000);
    });
  },
});

Deno.test({
  name: "unbound closes idle connections after 200 ms once 7 of its 10 TCP buffers are in use",
  ignore,
  async fn() {
    await withTarget(unbound, "v4", async (rig) => {
      const connections = [];
      for (let i = 0; i < 7; i++) {
        const connection = await open(rig);
        await assertExchange(rig, connection, ANSWER);
        connections.push(connection);
      }
      const since = monotonicMs();
      const last = connections[connections.length - 1]!;
      const read = await rig.agent.read(last.conn, { timeoutMs: 5000 });
      console.log(
        `unbound: with 7 connections, idle one closed after ${(read.t - since).toFixed(0)} ms`,
      );
      assert.ok(read.ok && read.eof && read.t - since <= 1000, JSON.stringify(read));
    });
  },
});
