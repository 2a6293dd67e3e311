import assert from "node:assert/strict";
import { BYSTANDER, type Family } from "../lab/address_plan.ts";
import { createLab, type Lab } from "../lab/lab.ts";
import { readSocketTable } from "../observe/proc_net_tcp.ts";
import { LivenessProbe, type LivenessSample } from "./liveness_probe.ts";
import { type EchoServer, startEchoServer, waitFor } from "./testdata/echo_fixture.ts";

const PING = { send: "PING\n", until: "PONG\n" };

async function withServer(
  family: Family,
  test: (lab: Lab, server: EchoServer) => Promise<void>,
  closeAfter?: number,
  unanswered = false,
): Promise<void> {
  const lab = await createLab();
  let server: EchoServer | undefined;
  try {
    server = await startEchoServer(
      lab,
      family,
      closeAfter === undefined ? {} : { closeAfter, unanswered },
    );
    await test(lab, server);
  } finally {
    await server?.stop();
    await lab.teardown();
  }
}

function summary(samples: LivenessSample[]): string {
  const latencies = samples.flatMap((s) => s.latencyMs === undefined ? [] : [s.latencyMs]);
  const errors = samples.flatMap((s) => s.error === undefined ? [] : [s.error]);
  return `${samples.length} samples, ${latencies.length} ok, max latency ${
    Math.max(...latencies).toFixed(2)
  } ms, errors [${errors.join(", ")}], ${samples.filter((s) => s.reconnected).length} connects`;
}

/** Runs a probe every 30 ms (500 ms each) until it has six samples, and prints them. */
async function sixSamples(lab: Lab, server: EchoServer): Promise<LivenessSample[]> {
  const probe = await LivenessProbe.start(lab, {
    address: server.address,
    port: server.port,
    exchange: PING,
    intervalMs: 30,
    timeoutMs: 500,
  });
  let samples: LivenessSample[] = [];
  try {
    await waitFor("six samples", 10_000, () => probe.samples.length >= 6);
  } finally {
    samples = await probe.stop();
  }
  console.log(summary(samples));
  return samples;
}

for (const family of ["v4", "v6"] as const) {
  Deno.test(`liveness probe exchanges every interval from the bystander address (${family})`, async () => {
    await withServer(family, async (lab, server) => {
      const probe = await LivenessProbe.start(lab, {
        address: server.address,
        port: server.port,
        exchange: PING,
        intervalMs: 50,
        // Not this test's subject (the next one's): room for a slow, busy host.
        timeoutMs: 5000,
      });
      let samples: LivenessSample[] = [];
      try {
        const from = await waitFor(
          "the probe's connection",
          2000,
          () =>
            readSocketTable(server.child.pid).find((s) =>
              s.local.port === server.port && s.state === "ESTABLISHED"
            ),
        );
        assert.equal(from.remote.address, BYSTANDER[family]);
        await waitFor("five samples", 10_000, () => probe.samples.length >= 5);
      } finally {
        samples = await probe.stop();
      }
      console.log(summary(samples));
      assert(samples.length >= 5, summary(samples));
      assert(samples.every((s) => s.ok && s.latencyMs !== undefined), summary(samples));
      assert.deepEqual(samples.map((s) => s.reconnected), samples.map((_, i) => i === 0));
      for (let i = 1; i < samples.length; i++) {
        const gap = (samples[i]?.startedAt ?? 0) - (samples[i - 1]?.startedAt ?? 0);
        // setTimeout never fires early by more than clock rounding (1 ms).
        assert(gap >= 49, `samples ${gap} ms apart`);
      }
    });
  });
}

Deno.test("liveness probe records timeouts while the server is stopped, then recovers", async () => {
  await withServer("v4", async (lab, server) => {
    const probe = await LivenessProbe.start(lab, {
      address: server.address,
      port: server.port,
      exchange: PING,
      intervalMs: 50,
      timeoutMs: 200,
    });
    let samples: LivenessSample[] = [];
    try {
      await waitFor("a first sample", 2000, () => probe.samples.length > 0);
      server.child.signal("SIGSTOP");
      const timedOut = () => probe.samples.filter((s) => s.error === "ETIMEDOUT").length;
      await waitFor("two timeouts", 10_000, () => timedOut() >= 2);
      server.child.signal("SIGCONT");
      await waitFor("an answered sample after the thaw", 2000, () => probe.samples.at(-1)?.ok);
    } finally {
      server.child.signal("SIGCONT");
      samples = await probe.stop();
    }
    console.log(summary(samples));
    const timeouts = samples.filter((s) => s.error === "ETIMEDOUT");
    assert(timeouts.length >= 2, summary(samples));
    for (const s of timeouts) {
      // The probe's bound is 200 ms and poll() never ends early (5 ms for its rounding to ms).
      // How much later the probe's process woke is the host's load: a note, not a bound.
      assert(s.endedAt - s.startedAt >= 195, `timed out after ${s.endedAt - s.startedAt} ms`);
    }
    assert(samples[0]?.ok && samples.at(-1)?.ok);
  });
});

Deno.test("liveness probe reconnects when the server closes its connection", async () => {
  await withServer("v6", async (lab, server) => {
    const samples = await sixSamples(lab, server);
    assert(samples.every((s) => s.ok), summary(samples));
    // The server closes after every 2nd answer, so every 2nd exchange needs a new connection.
    assert.deepEqual(samples.map((s) => s.reconnected), samples.map((_, i) => i % 2 === 0));
  }, 2);
});

Deno.test("liveness probe sends again on a new connection when a kept-alive one closes unanswered", async () => {
  await withServer(
    "v4",
    async (lab, server) => {
      const samples = await sixSamples(lab, server);
      // The server answers once per connection, then closes on the next request unanswered: as
      // an HTTP client would, the probe sends that request again on a new connection.
      assert(samples.every((s) => s.ok && s.reconnected), summary(samples));
      assert.ok(server.lines.some((l) => l.startsWith("CLOSED UNANSWERED")));
    },
    1,
    true,
  );
});
