import assert from "node:assert/strict";
import { CAPTURE_SLACK_MS, type PacketEvent } from "../observe/capture.ts";
import { abort, close, connect } from "../suite/steps.ts";
import { faultSteps } from "../faults/registry.ts";
import { capturedMoment, type FaultMoment, segmentMoment, stepMoment } from "./fault_moment.ts";

const segment = (at: number, port: number, flags: PacketEvent["flags"], from = "client") =>
  ({
    at,
    direction: from === "client" ? "client_to_server" : "server_to_client",
    client: { address: "192.0.2.2", port },
    flags,
    seq: 1,
    ack: 1,
    window: 100,
    length: 0,
    kinds: [],
  }) satisfies PacketEvent;

Deno.test("a rule switched by netlink took effect within its system call", () => {
  const m = stepMoment(1000, [
    { actor: "router", action: "vanish", t: 1000.4, sentAt: 1000.1, ok: true },
  ]);
  assert.equal(m.source, "netlink");
  assert.equal(m.at, 1000.4);
  assert.ok(Math.abs(m.toleranceMs - 0.3) < 1e-9);
});

Deno.test("a step without a system call of the runner counts from its report, within its duration", () => {
  const m = stepMoment(1000, [{ actor: "client-host", action: "freeze", t: 1012, ok: true }]);
  assert.deepEqual(m, { askedAt: 1000, at: 1012, source: "runner", toleranceMs: 12 });
});

Deno.test("a step that sets up first asks for its down part when the setup ends", () => {
  const m = stepMoment(1000, [
    { actor: "client", action: "churn", t: 4000, ok: true },
    { actor: "router", action: "churn", t: 4000.2, sentAt: 4000.1, ok: true },
  ]);
  assert.equal(m.askedAt, 4000);
  assert.equal(m.source, "netlink");
});

Deno.test("a FIN or RST step takes the capture's first such segment of the connection, once asked", () => {
  const asked: FaultMoment = { askedAt: 1000, at: 1030, source: "runner", toleranceMs: 30 };
  const packets = [
    segment(990, 40000, ["FIN", "ACK"]), // before the runner asked: an earlier close
    segment(1005, 41000, ["RST"]), // another connection
    segment(1006, 40000, ["RST"], "server"), // the server's
    segment(1008, 40000, ["ACK"]),
    segment(1010, 40000, ["RST", "ACK"]),
    segment(1020, 40000, ["RST"]),
  ];
  assert.deepEqual(segmentMoment(asked, packets, 40000), {
    askedAt: 1000,
    at: 1010,
    source: "capture",
    toleranceMs: CAPTURE_SLACK_MS,
  });
  // No such segment (no capture, or it never passed the router): the step's own moment stays.
  assert.equal(segmentMoment(asked, packets.slice(0, 4), 40000), asked);
});

Deno.test("which steps' moment the capture tells", () => {
  assert.ok(capturedMoment(close()));
  assert.ok(capturedMoment(abort()));
  assert.ok(capturedMoment({ kind: "fault", fault: faultSteps.resetFromHost() }));
  assert.ok(!capturedMoment({ kind: "fault", fault: faultSteps.vanish() }));
  assert.ok(!capturedMoment(connect()));
});
