import assert from "node:assert/strict";
import type { PacketEvent } from "../observe/capture.ts";
import { emptyObservations } from "../observe/observations.ts";
import { buildTimeline } from "./timeline.ts";

const CLIENT = { address: "203.0.113.10", port: 40000 };

function fromServer(at: number, kinds: PacketEvent["kinds"] = []): PacketEvent {
  return {
    at,
    direction: "server_to_client",
    client: CLIENT,
    flags: ["ACK", "PSH"],
    seq: 1,
    ack: 1,
    window: 500,
    length: 100,
    kinds,
  };
}

Deno.test("buildTimeline marks what the router dropped while a silencing fault held, and draws its ICMP", () => {
  const obs = emptyObservations(60_000);
  obs.run.faultAt = 1000;
  obs.connection.clientPort = CLIENT.port;
  obs.steps.push(
    {
      actor: "router",
      action: "icmp-unreachable",
      detail: "host-unreachable",
      t: 1000,
      ok: true,
      peer: "silent",
    },
    { actor: "router", action: "heal", t: 3000, ok: true, peer: "answers" },
  );
  obs.capture.packets = [fromServer(900), fromServer(1500, ["retransmission"]), fromServer(3500)];
  obs.capture.unreachables = [
    { at: 1500, says: "host unreachable", clientPort: CLIENT.port },
    { at: 1600, says: "host unreachable", clientPort: CLIENT.port + 1 }, // another connection's
  ];
  const events = buildTimeline(obs).filter((e) => e.actor !== "client");
  assert.deepEqual(events.map((e) => [e.atMs, e.actor, e.what, e.dropped ?? false]), [
    [-100, "server", "data", false],
    [0, "router", "fault: icmp-unreachable (host-unreachable)", false],
    [500, "server", "data retransmission", true],
    [500, "router", "ICMP host unreachable", false],
    [2000, "router", "fault: heal", false],
    [2500, "server", "data", false],
  ]);
  // What each event is, as data for the renderers.
  assert.deepEqual(events.map((e) => e.kind), ["data", "fault", "bulk", "icmp", "heal", "data"]);
});

Deno.test("buildTimeline: the step at the fault moment is the fault, and says so", () => {
  const obs = emptyObservations(60_000);
  obs.run.faultAt = 1000;
  obs.steps.push(
    { actor: "client", action: "connect", t: 500, ok: true, traffic: true },
    { actor: "client", action: "crash", detail: "SIGKILL", t: 1002, ok: true },
    { actor: "client", action: "exchange", t: 1500, ok: false, error: "ECONNRESET" },
  );
  assert.deepEqual(buildTimeline(obs).map((e) => [e.kind, e.what]), [
    ["setup", "connect"],
    ["fault", "fault: crash (SIGKILL)"],
    ["failed", "exchange failed: ECONNRESET"],
  ]);
});

Deno.test("buildTimeline keeps the end of a long story: its start and its end, never only the start", () => {
  const obs = emptyObservations(60_000);
  obs.run.faultAt = 0;
  obs.connection.clientPort = CLIENT.port;
  obs.capture.packets = Array.from({ length: 1000 }, (_, i) => fromServer(i * 10));
  const events = buildTimeline(obs);
  assert.equal(events.length, 401);
  assert.equal(events[0]?.atMs, 0);
  assert.deepEqual(events[200], {
    atMs: 2000,
    actor: "harness",
    kind: "step",
    what: "600 events not kept here (a results file keeps the first and last 200)",
  });
  assert.equal(events.at(-1)?.atMs, 9990);
});

Deno.test("buildTimeline shows the server's own close of the bystander's connection, not as a failure", () => {
  const obs = emptyObservations(60_000);
  obs.run.faultAt = 1000;
  const answered = { endedAt: 0, ok: true, latencyMs: 3, kernelLatencyMs: 2, reconnected: true };
  obs.bystander = [
    { ...answered, startedAt: 1200, endedAt: 1205 },
    {
      ...answered,
      startedAt: 1700,
      endedAt: 1706,
      serverClosed: true,
      farewell: "421 Login timeout",
    },
    { startedAt: 2200, endedAt: 3200, ok: false, reconnected: false, error: "ETIMEDOUT" },
  ];
  const events = buildTimeline(obs).filter((e) => e.actor === "bystander");
  assert.deepEqual(events.map((e) => [e.atMs, e.what]), [
    [700, "found its connection closed by the server; reconnected"],
    [2200, "no answer: ETIMEDOUT"],
  ]);
});
