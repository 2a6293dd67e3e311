import assert from "node:assert/strict";
import type { Captured } from "../observe/capture.ts";
import { assembleObservations, type Gathered } from "./observed.ts";

const GATHERED: Gathered = {
  deadlineMs: 20_000,
  setup: { harness: { labUpMs: 40, targetReadyMs: 30 }, kernelHz: 250 },
  run: { outcome: { kind: "completed" }, faultAt: 1000, endAt: 5000, waitPlannedMs: 3000 },
  steps: [{ actor: "client", action: "abort", t: 1000, ok: true, peer: "resets" }],
  exchanges: {},
  connection: { clientPort: 40000, socket: [] },
  server: {},
  teardown: { ms: 20 },
};

const CAPTURED: Captured = { packets: [], unreachables: [], droppedByKernel: 0 };

Deno.test("the observations are built once from each part's record", () => {
  const obs = assembleObservations({
    ...GATHERED,
    teardown: { ms: 20, captured: CAPTURED, bystander: [], log: "bye" },
  });
  assert.deepEqual(obs.run.harness, { labUpMs: 40, targetReadyMs: 30, teardownMs: 20 });
  assert.equal(obs.run.deadlineMs, 20_000);
  assert.equal(obs.connection.kernelHz, 250);
  assert.deepEqual(obs.capture, { packets: [], unreachables: [], droppedByKernel: 0 });
  assert.deepEqual(obs.bystander, []);
  assert.equal(obs.server.log, "bye");
  assert.equal(obs.steps, GATHERED.steps);
  assert.ok(!("teardownNote" in obs.run) && !("bystanderTimeoutMs" in obs));
});

Deno.test("a missing or incomplete capture and a rough teardown are notes, not figures", () => {
  const none = assembleObservations({
    ...GATHERED,
    setup: { ...GATHERED.setup, noCapture: "tcpdump is not installed" },
    teardown: { ms: 20, note: "Teardown: Error: late" },
  });
  assert.deepEqual(none.capture, { note: "No packet capture: tcpdump is not installed" });
  assert.equal(none.run.teardownNote, "Teardown: Error: late");
  const dropped = assembleObservations({
    ...GATHERED,
    teardown: { ms: 20, captured: { ...CAPTURED, droppedByKernel: 3 } },
  });
  assert.match(dropped.capture.note ?? "", /incomplete: the kernel dropped 3 packet\(s\)/);
});
