import assert from "node:assert/strict";
import { timerWheel } from "../observe/timer_wheel.ts";
import type { ScenarioResult } from "../results/schema.ts";
import { comparableRelease, compareLevels, keepaliveRelease } from "./harness_bench.ts";

// Two scenarios of a published ref-hardened run: a keepalive release and a release on the
// client's FIN.
const published: ScenarioResult[] = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/ref_hardened_releases.json", import.meta.url)),
).scenarios;
const vanish = published.find((r) => r.id === "vanish/idle")!;
const fin = published.find((r) => r.id === "fin/idle")!;
const wheel = timerWheel(250);

function withRelease(r: ScenarioResult, releaseMs: number, sinceLastTrafficMs?: number) {
  const copy: ScenarioResult = structuredClone(r);
  copy.measurements.releaseMs = releaseMs;
  if (sinceLastTrafficMs !== undefined) {
    copy.measurements.releaseSinceLastTrafficMs = sinceLastTrafficMs;
  }
  return copy;
}

Deno.test("comparableRelease: a keepalive release counts from the last traffic, with the timers' lateness", () => {
  assert.equal(vanish.measurements.keepaliveProbes, 3);
  assert.deepEqual([keepaliveRelease(vanish), keepaliveRelease(fin)], [true, false]);
  // keepalive 2 s + 3 × 1 s at HZ 250: each timer up to 36 ms late (level 1, 32 ms + a tick).
  assert.deepEqual(comparableRelease(withRelease(vanish, 5116, 5120), wheel, true), {
    ms: 5120,
    toleranceMs: 50 + 4 * 36,
  });
  // Compared from the fault when not every level's release was the keepalive's.
  assert.deepEqual(comparableRelease(withRelease(vanish, 5116, 5120), wheel, false), {
    ms: 5116,
    toleranceMs: 50,
  });
  assert.deepEqual(comparableRelease(withRelease(fin, 3), wheel, false), {
    ms: 3,
    toleranceMs: 50,
  });
});

Deno.test("compareLevels: keepalive releases are compared since the last traffic, others from the fault", () => {
  // The fault came later after the last traffic at the higher level: the release from the
  // fault is shorter, the kernel's timer (from the last traffic) the same.
  const low = [withRelease(vanish, 5146, 5150), withRelease(fin, 3)];
  const agree = [withRelease(vanish, 5058, 5131), withRelease(fin, 40)];
  assert.deepEqual(compareLevels(low, agree, wheel), []);
  const apart = [withRelease(vanish, 4800, 4900), withRelease(fin, 61)];
  assert.deepEqual(compareLevels(low, apart, wheel), [
    "vanish/idle: release 4900 ms at the highest level, outside 5150–5150 ms ± 194 ms",
    "fin/idle: release 61 ms at the highest level, outside 3–3 ms ± 50 ms",
  ]);
  const failed = { ...withRelease(fin, 3), verdict: "fail" as const };
  assert.deepEqual(compareLevels(low, [agree[0]!, failed], wheel), [
    "fin/idle: verdicts pass at the lowest level, fail at the highest",
  ]);
});
