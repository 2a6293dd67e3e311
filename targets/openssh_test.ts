import assert from "node:assert/strict";
import { LivenessProbe, type LivenessSample } from "../lib/client/liveness_probe.ts";
import { defineTarget, selectVariant } from "../lib/target/define_target.ts";
import { installBlocker } from "../lib/target/target_packages.ts";
import openssh from "./openssh.ts";
import {
  assertExchange,
  open,
  type OpenConnection,
  OS_KEEPALIVE,
  serverSocketOptions,
  type TargetRig,
  withTarget,
} from "./testdata/target_checks.ts";

// Skipped only where this machine cannot have the server; else withTarget installs it first.
const ignore = installBlocker(openssh) !== undefined;
const BANNER = /^SSH-2\.0-OpenSSH_\S+( \S+)?\r\n/;

/** Nothing more arrives within 300 ms: the last read left no byte unread. */
async function assertQuiet(rig: TargetRig, connection: OpenConnection): Promise<void> {
  const more = await rig.agent.read(connection.conn, { bytes: 1, timeoutMs: 300 });
  assert.deepEqual([more.ok, more.ok ? "" : more.error, more.bytes], [false, "ETIMEDOUT", 0]);
}

/** The target with `line` at the top of sshd's configuration (the first value wins). */
function withConfigLine(line: string) {
  return defineTarget({
    ...openssh,
    id: "openssh-test",
    start: (context) => {
      const spec = openssh.start(context);
      const files = { ...spec.files };
      files["openssh/sshd_config"] = `${line}\n${files["openssh/sshd_config"]}`;
      return { ...spec, files };
    },
  });
}

Deno.test({
  name: "sshd answers the identification with a KEXINIT read to its end; a partial one waits",
  ignore,
  async fn() {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(openssh, family, async (rig) => {
        const idle = await open(rig);
        await assertExchange(rig, idle, BANNER);
        await assertQuiet(rig, idle);
        const options = await serverSocketOptions(rig, idle);
        assert.deepEqual(
          [options.keepalive, options.keepIdleS, options.keepIntvlS, options.keepCnt],
          [true, OS_KEEPALIVE.keepIdleS, OS_KEEPALIVE.keepIntvlS, OS_KEEPALIVE.keepCnt],
        );
        assert.equal(options.userTimeoutMs, 0);

        // The server's banner comes at connect; after half an identification, nothing more.
        const partial = await open(rig);
        const banner = await rig.agent.read(partial.conn, { until: "\r\n", timeoutMs: 2000 });
        assert.ok(banner.ok && banner.found);
        assert.ok((await rig.agent.send(partial.conn, openssh.protocol.partialRequest)).ok);
        await assertQuiet(rig, partial);
      });
    }
    assert.match(await openssh.version!(), /^\d+\.\d+/);
    assert.equal(openssh.protocol.largeRequest, undefined);
  },
});

/**
 * The liveness probe as the runner starts it for this target (a new connection per exchange,
 * `oneRequestPerConnection`), for `exchanges` exchanges 50 ms apart.
 */
async function probe(rig: TargetRig, exchanges: number): Promise<LivenessSample[]> {
  const started = await LivenessProbe.start(rig.lab, {
    address: rig.server.address,
    port: rig.server.port,
    exchange: openssh.protocol.request,
    fresh: openssh.protocol.oneRequestPerConnection === true,
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
  name: "sshd ends a connection on a second identification; a new connection each is served",
  ignore,
  async fn() {
    assert.equal(openssh.protocol.oneRequestPerConnection, true);
    await withTarget(openssh, "v4", async (rig) => {
      const connection = await open(rig);
      await assertExchange(rig, connection, BANNER);
      assert.ok((await rig.agent.send(connection.conn, openssh.protocol.request.send)).ok);
      const closed = await rig.agent.read(connection.conn, { timeoutMs: 2000 });
      assert.ok(closed.ok && closed.eof, `second identification: ${JSON.stringify(closed)}`);

      const samples = await probe(rig, 12);
      const failed = samples.filter((s) => !s.ok).map((s) => s.error);
      console.log(`bystander: ${samples.length} exchanges, failed: [${failed.join(", ")}]`);
      assert.ok(samples.length >= 12, `${samples.length} exchanges`);
      assert.deepEqual(failed, []);
      assert.ok(samples.every((s) => s.reconnected));
    });
  },
});

Deno.test({
  name: "sshd closes an unauthenticated connection at LoginGraceTime, whatever the traffic",
  ignore,
  async fn() {
    await withTarget(withConfigLine("LoginGraceTime 2"), "v4", async (rig) => {
      const connection = await open(rig);
      const opened = await rig.agent.info(connection.conn);
      await assertExchange(rig, connection, BANNER);
      const closed = await rig.agent.read(connection.conn, { timeoutMs: 6000 });
      assert.ok(closed.ok && closed.eof, `closed: ${JSON.stringify(closed)}`);
      const afterMs = closed.t - opened.t;
      console.log(`LoginGraceTime 2: closed ${afterMs.toFixed(0)} ms after connecting`);
      // alarm(2) in whole seconds from the accept: 2 s, plus the fork and exec of the
      // connection's sshd (tens of ms) and a wide margin for a loaded machine.
      assert.ok(afterMs >= 1900 && afterMs <= 3500, `closed after ${afterMs} ms`);
    });
  },
});

Deno.test({
  name: "sshd's variants start and answer",
  ignore,
  async fn() {
    for (const name of Object.keys(openssh.variants ?? {})) {
      await withTarget(selectVariant(openssh, name), "v4", async (rig) => {
        const connection = await open(rig);
        await assertExchange(rig, connection, BANNER);
        await assertQuiet(rig, connection);
      });
    }
  },
});
