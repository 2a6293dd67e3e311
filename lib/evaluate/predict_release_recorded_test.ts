// predictFromObservations replayed on what the real kernel did (recordings made by
// testdata/record_release.ts against the odd test server): cut at every 250 ms of the wait, as
// if the deadline had ended there, a prediction must agree with the measured release within its
// tolerance, say "never" only where the kernel alone never ended it, and be made at all once
// the situation that decides it has been observed.

import assert from "node:assert/strict";
import {
  agrees,
  lastHeldMs,
  predictAt,
  readRecordings,
  type ReleaseRecording,
} from "./testdata/record_release.ts";
import type { PredictionOutcome } from "./predict_release.ts";

/**
 * What each recording must be predicted as once `fromMs` after the fault has been watched
 * (before that, no prediction or an agreeing one). `how` is the release's label.
 */
const EXPECTED: Record<
  string,
  { fromMs: number; kind: PredictionOutcome["kind"]; how?: string }
> = {
  "keepalive-short-vanish": { fromMs: 0, kind: "release", how: "keepalive-timeout" },
  "keepalive-long-vanish": { fromMs: 0, kind: "release", how: "keepalive-timeout" },
  "keepalive-user-timeout-vanish": { fromMs: 0, kind: "release", how: "keepalive-timeout" },
  "keepalive-user-timeout-long-vanish": { fromMs: 0, kind: "release", how: "keepalive-timeout" },
  "user-timeout-idle-vanish": { fromMs: 0, kind: "never" },
  // Data in flight: from the first retransmission by the retransmission timer.
  "user-timeout-reading-vanish": { fromMs: 600, kind: "release", how: "retransmission-timeout" },
  "user-timeout-stopped-reading-vanish": {
    fromMs: 250,
    kind: "release",
    how: "zero-window-timeout",
  },
  // The frozen client's kernel answers the first probe, 2 s after the last traffic.
  "keepalive-freeze": { fromMs: 2100, kind: "never" },
  "keepalive-reboot": { fromMs: 0, kind: "release", how: "reset-by-peer" },
  "keepalive-nat-rst": { fromMs: 0, kind: "release", how: "reset-by-peer" },
  // Idle (and so "never": no keepalive) until the server writes, 5 s after the last exchange.
  "late-writer-user-timeout": { fromMs: 5450, kind: "release", how: "retransmission-timeout" },
  "late-writer-retries2-8": { fromMs: 6700, kind: "release", how: "retransmission-timeout" },
  "late-writer-retries2-15": { fromMs: 6700, kind: "release", how: "retransmission-timeout" },
  "zero-window-user-timeout": { fromMs: 350, kind: "release", how: "zero-window-timeout" },
  "zero-window-no-user-timeout": { fromMs: 350, kind: "never" },
  // Window probes unanswered, no TCP_USER_TIMEOUT: the 15th unanswered probe ends it (946.9 s).
  "retries2-stopped-reading-vanish": {
    fromMs: 1700,
    kind: "release",
    how: "zero-window-timeout",
  },
  // Three retransmissions (two gaps) show the backoff the tcp_retries2 model needs.
  "retries2-reading-vanish": { fromMs: 3000, kind: "release", how: "retransmission-timeout" },
  "retries2-8-reading-vanish": { fromMs: 3000, kind: "release", how: "retransmission-timeout" },
  // ICMP errors undo backoff steps: TCP_USER_TIMEOUT still holds exactly, tcp_retries2's
  // firings do not.
  "icmp-user-timeout-reading": { fromMs: 600, kind: "release", how: "retransmission-timeout" },
  "icmp-retries2-8-reading": { fromMs: 0, kind: "unknown" },
};

function show(p: PredictionOutcome, r: ReleaseRecording): string {
  return p.kind === "release"
    ? `release at ${Math.round(p.at - r.faultAt)} ms −${p.toleranceMs.early}/+${p.toleranceMs.late}`
    : `${p.kind}: ${p.kind === "never" ? p.situation : p.reason}`;
}

const recordings = await readRecordings();

Deno.test("recordings exist for the kernel-model cases", () => {
  assert.ok(recordings.length >= 12, `only ${recordings.length} recordings`);
});

for (const r of recordings) {
  const expected = EXPECTED[r.name];
  Deno.test(`predictFromObservations agrees with the kernel: ${r.title}`, () => {
    assert.ok(expected, `no expectation for "${r.name}"`);
    const end = lastHeldMs(r);
    const cuts = [];
    for (let ms = 0; ms < end; ms += 250) cuts.push(ms);
    cuts.push(end);
    for (const ms of cuts) {
      const p = predictAt(r, ms);
      const at = `cut at ${ms} ms: ${show(p, r)}`;
      if (ms >= expected.fromMs) {
        assert.equal(p.kind, expected.kind, at);
        if (p.kind === "release") assert.equal(p.how, expected.how, at);
      }
      // An application's later act (the late writer's push) may end a connection the kernel
      // alone never would: "never" speaks for the kernel only.
      if (p.kind === "never" && expected.kind === "release") continue;
      assert.notEqual(agrees(r, p), false, at);
    }
  });
}

Deno.test("without a capture, predictions from the socket table alone never contradict the kernel", () => {
  let made = 0;
  for (const r of recordings) {
    const expected = EXPECTED[r.name];
    const end = lastHeldMs(r);
    for (let ms = 0; ms <= end; ms += 250) {
      const p = predictAt(r, ms, false);
      if (p.kind !== "unknown") made++;
      if (p.kind === "never" && expected?.kind === "release") continue;
      assert.notEqual(agrees(r, p), false, `${r.name}, cut at ${ms} ms: ${show(p, r)}`);
    }
  }
  assert.ok(made > 0);
});

Deno.test("the recordings say the HZ they were recorded at: 250", () => {
  for (const r of recordings) assert.equal(r.kernelHz, 250, r.name);
});

Deno.test("with HZ unknown (the coarsest wheel), predictions never contradict the kernel", () => {
  let made = 0, wider = 0;
  for (const r of recordings) {
    const expected = EXPECTED[r.name];
    const end = lastHeldMs(r);
    for (let ms = 0; ms <= end; ms += 250) {
      for (const captured of [true, false]) {
        const p = predictAt(r, ms, captured, null);
        if (p.kind !== "unknown") made++;
        if (p.kind === "never" && expected?.kind === "release") continue;
        const at = `${r.name}, cut at ${ms} ms${captured ? "" : " (no capture)"}: ${show(p, r)}`;
        assert.notEqual(agrees(r, p), false, at);
        const known = predictAt(r, ms, captured);
        if (p.kind === "release" && known.kind === "release") {
          // Never a tighter window than at the recorded HZ.
          assert.ok(p.at - p.toleranceMs.early <= known.at - known.toleranceMs.early, at);
          assert.ok(p.at + p.toleranceMs.late >= known.at + known.toleranceMs.late, at);
          if (p.toleranceMs.late > known.toleranceMs.late) wider++;
        }
      }
    }
  }
  assert.ok(made > 0 && wider > 0, `${made} predictions, ${wider} wider`);
});
