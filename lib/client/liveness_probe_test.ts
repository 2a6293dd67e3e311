import assert from "node:assert/strict";
import { BYSTANDER, type Family } from "../lab/address_plan.ts";
import { createLab, type Lab } from "../lab/lab.ts";
import { LivenessProbe, type LivenessSample } from "./liveness_probe.ts";
import {
  type EchoServer,
  serverConnection,
  startEchoServer,
  waitFor,
} from "./testdata/echo_fixture.ts";

const PING = { send: "PING\n", until: "PONG\n" };

async function withServer(
  family: Family,
  test: (lab: Lab, server: EchoServer) => Promise<void>,
  closeAfter?: number,
  mode?: "unanswered" | "farewell" | "unanswered-farewell" | "push" | "banner",
): Promise<void> {
  const lab = await createLab();
  let server: EchoServer | undefined;
  try {
    server = await startEchoServer(lab, family, {
      ...(closeAfter === undefined ? {} : { closeAfter }),
      ...(mode === undefined ? {} : { mode }),
    });
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
        const from = await serverConnection(server);
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
    "unanswered",
  );
});

Deno.test("liveness probe: the kernel figure runs from the request's send to the answer's receive stamp", async () => {
  await withServer("v4", async (lab, server) => {
    const samples = await sixSamples(lab, server);
    assert(samples.every((s) => s.ok), summary(samples));
    for (const s of samples) {
      assert(s.kernelLatencyMs !== undefined, "every answered sample has a kernel figure");
      // Both ends are CLOCK_REALTIME: the receive stamp cannot precede the moment the request
      // left, and both moments lie within the exchange as the probe bracketed it on
      // CLOCK_MONOTONIC (0.01 ms for the rounding of two clocks).
      assert(s.kernelLatencyMs >= 0, `kernel figure ${s.kernelLatencyMs} ms`);
      assert(
        s.kernelLatencyMs <= s.endedAt - s.startedAt + 0.01,
        `kernel ${s.kernelLatencyMs} ms, exchange ${s.endedAt - s.startedAt} ms`,
      );
    }
  });
});

Deno.test("liveness probe: a server that closes an idle connection with a parting line is not a stall", async () => {
  await withServer(
    "v4",
    async (lab, server) => {
      const samples = await sixSamples(lab, server);
      // Every 2nd answer is followed by "421 Login timeout" and the server's FIN.
      assert(samples.every((s) => s.ok), summary(samples));
      const closed = samples.filter((s) => s.serverClosed);
      assert(closed.length >= 2, summary(samples));
      assert(closed.every((s) => s.farewell === "421 Login timeout" && s.reconnected));
    },
    2,
    "farewell",
  );
});

Deno.test("liveness probe: a parting line in place of the answer sends the request again on a new connection", async () => {
  await withServer(
    "v6",
    async (lab, server) => {
      const samples = await sixSamples(lab, server);
      assert(samples.every((s) => s.ok && s.reconnected), summary(samples));
      const closed = samples.filter((s) => s.serverClosed);
      // The first exchange opens the first connection; each one after meets the server's close.
      assert.equal(closed.length, samples.length - 1, summary(samples));
      assert(closed.every((s) => s.farewell === "421 Login timeout"), summary(samples));
    },
    1,
    "unanswered-farewell",
  );
});

Deno.test("liveness probe: a line the server sends unasked is read out, not taken for an answer or a close", async () => {
  await withServer(
    "v4",
    async (lab, server) => {
      const samples = await sixSamples(lab, server);
      // Every answer is followed by "NOTE": the connection stays, no close is recorded.
      assert(samples.every((s) => s.ok && !s.serverClosed), summary(samples));
      assert.deepEqual(samples.map((s) => s.reconnected), samples.map((_, i) => i === 0));
    },
    0,
    "push",
  );
});
