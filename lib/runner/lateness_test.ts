import assert from "node:assert/strict";
import { monotonicMs } from "../libc/libc.ts";
import type { Observations, StepRecord } from "../observe/observations.ts";
import { Admission, ADMIT_BELOW_MS, LatenessMonitor, latenessWhileMeasuring } from "./lateness.ts";

Deno.test("lateness: the largest value per window, 0 where nothing was measured", () => {
  const monitor = new LatenessMonitor();
  assert.equal(monitor.maxBetween(0, 1e9), 0);
  monitor.record(1000, 3);
  monitor.record(1050, 7);
  monitor.record(1500, 40);
  monitor.record(2500, 1);
  assert.equal(monitor.maxBetween(1000, 1099), 7);
  assert.equal(monitor.maxBetween(1000, 1600), 40);
  assert.equal(monitor.maxBetween(1600, 3000), 1);
  assert.equal(monitor.maxBetween(5000, 6000), 0);
  assert.equal(monitor.maxBetween(0, 1e9), 40);
});

Deno.test("lateness: an event loop blocked for 350 ms is late over the stall and in each 100 ms inside it", async () => {
  const monitor = new LatenessMonitor();
  const release = monitor.hold();
  const from = monotonicMs();
  // The monitor's timer is due 10 ms after hold(); blocking 350 ms makes it at least 340 ms late.
  while (monotonicMs() - from < 350) { /* block the event loop */ }
  await new Promise((resolve) => setTimeout(resolve, 30));
  release();
  const seen = `${monitor.bucketsBetween(from, from + 400)}`;
  assert(monitor.maxBetween(from, monotonicMs()) >= 340, seen);
  // A window wholly inside the stall (100 to 200 ms after it began), where no timer ran: what
  // was read there was read after the stall, at least 150 ms late.
  assert(monitor.maxBetween(from + 100, from + 200) >= 150, seen);
});

Deno.test("lateness: a stall over bucket starts that floating point cannot reach exactly still ends", () => {
  // With this origin, origin + 13 × 100 less the origin is 1299.99…: stepping a moment to the
  // next bucket's start stayed put there (a runner hung in this loop for minutes).
  const origin = 32088.57132869236;
  const monitor = new LatenessMonitor();
  monitor.record(origin, 0);
  const due = origin + 1250.5;
  monitor.recordStall(due, due + 1000);
  const buckets = monitor.bucketsBetween(due, due + 1000);
  assert.equal(buckets.length, 11);
  assert.equal(buckets.at(-1), 1000); // where it ended: the whole stall
  assert.equal(buckets[0], 1000); // the bucket it began in: read at the end, 1000 ms late
  // Each bucket inside: read at the end, late by the end less its start (1300 - 1250.5 ms in).
  assert(Math.abs(buckets[1]! - 950.5) < 1e-6, `${buckets}`);
  assert(Math.abs(buckets[9]! - 150.5) < 1e-6, `${buckets}`);
});

Deno.test("admission: waits while late and others run; never blocks the only one", async () => {
  const monitor = new LatenessMonitor();
  const admission = new Admission(monitor);
  monitor.record(monotonicMs(), ADMIT_BELOW_MS + 10);
  await admission.enter(() => 0); // nothing else runs: in at once
  // Kept late for as long as the test looks, however slowly it runs.
  const late = setInterval(() => monitor.record(monotonicMs(), ADMIT_BELOW_MS + 10), 20);
  let running = 1;
  let admittedYet = false;
  const waiting = admission.enter(() => running).then(() => admittedYet = true);
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(admittedYet, false);
  running = 0;
  clearInterval(late);
  await waiting;
  assert(admittedYet);
});

Deno.test("admission: on time, scenarios start one per spacing, not all at once", async () => {
  const monitor = new LatenessMonitor();
  const admission = new Admission(monitor, 60_000);
  await admission.enter(() => 1); // the first goes in at once
  let second = false;
  const stop = new AbortController();
  const waiting = admission.enter(() => 1, stop.signal).then(() => second = true);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(second, false); // a minute's spacing: still waiting
  await admission.enter(() => 0); // nothing else runs: in at once, whatever the spacing
  stop.abort(); // an interrupted run waits for nothing
  await waiting;
  assert(second);
});

Deno.test("admission: a last try starts beside the running ones, and nothing starts until its client is down", async () => {
  const admission = new Admission(new LatenessMonitor(), 0);
  const running = 1; // another scenario runs throughout: the last try does not wait for it
  const order: string[] = [];
  let goDown = () => {};
  let finish = () => {};
  const last = admission.lastTry(() => running, async (down) => {
    order.push("last");
    await new Promise<void>((resolve) => goDown = resolve);
    down();
    await new Promise<void>((resolve) => finish = resolve);
    return "done";
  });
  const next = admission.enter(() => running).then(() => order.push("next"));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(order, ["last"]); // it started; the next one waits for its client to go down
  goDown();
  await next;
  assert.deepEqual(order, ["last", "next"]); // in while the last try still watches
  finish();
  assert.equal(await last, "done");
});

Deno.test("admission: a last try whose client never goes down lets others start after a while", async () => {
  const admission = new Admission(new LatenessMonitor(), 0, 50);
  let admitted = () => {};
  const nextAdmitted = new Promise<void>((resolve) => admitted = resolve);
  let guard: ReturnType<typeof setTimeout> | undefined;
  const last = admission.lastTry(() => 1, async () => {
    // Ends only once another was let in: without the reopening, the guard fails the test.
    await Promise.race([
      nextAdmitted,
      new Promise((_, reject) =>
        guard = setTimeout(() => reject(new Error("never reopened")), 10_000)
      ),
    ]);
    clearTimeout(guard);
    return "done";
  });
  await admission.enter(() => 1).then(admitted);
  assert.equal(await last, "done");
});

Deno.test("admission: a second last try starts once the first has taken its client down, not once it ends", async () => {
  const admission = new Admission(new LatenessMonitor(), 0);
  const order: string[] = [];
  let firstDown = () => {};
  let finishFirst = () => {};
  const first = admission.lastTry(() => 1, async (down) => {
    order.push("first");
    await new Promise<void>((resolve) => firstDown = resolve);
    down();
    await new Promise<void>((resolve) => finishFirst = resolve);
    order.push("first ends");
  });
  const second = admission.lastTry(() => 1, (down) => {
    order.push("second");
    down();
    return Promise.resolve();
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(order, ["first"]);
  firstDown();
  await second;
  assert.deepEqual(order, ["first", "second"]); // while the first still watches
  finishFirst();
  await first;
});

Deno.test("lateness while measuring counts the fault, timed steps after it and the release; not an untimed step", () => {
  const monitor = new LatenessMonitor();
  monitor.record(0, 0);
  monitor.record(1050, 300); // while a churn's resets went out
  monitor.record(5050, 40); // before the release was seen
  const obs = (steps: StepRecord[]) => ({ run: { faultAt: 500 } as Observations["run"], steps });
  const resets: StepRecord = { actor: "client", action: "churn", t: 1090, ok: true, untimed: true };
  assert.equal(latenessWhileMeasuring(monitor, obs([resets]), 4550), 40);
  const { untimed: _, ...timed } = resets;
  assert.equal(latenessWhileMeasuring(monitor, obs([timed]), 4550), 300);
  assert.equal(latenessWhileMeasuring(monitor, obs([resets]), undefined), 0);
});

Deno.test("lateness while measuring: a fault the kernel timed is not the runner's moment", () => {
  const monitor = new LatenessMonitor();
  monitor.record(0, 0);
  monitor.record(450, 300); // a churn's 500 resets keep the runner busy as the fault happens
  const run = (source: "runner" | "capture" | "netlink") => ({
    run: {
      faultAt: 500,
      faultMoment: { askedAt: 480, source, toleranceMs: 1 },
    } as Observations["run"],
    steps: [],
  });
  assert.equal(latenessWhileMeasuring(monitor, run("runner"), undefined), 300);
  assert.equal(latenessWhileMeasuring(monitor, run("capture"), undefined), 0);
  assert.equal(latenessWhileMeasuring(monitor, run("netlink"), undefined), 0);
  // The release is still the runner's reading.
  assert.equal(latenessWhileMeasuring(monitor, run("capture"), -30), 300);
  // The runner's clock, but the moment of an untimed step (the churn's last reset).
  const resets: StepRecord = { actor: "client", action: "churn", t: 500, ok: true, untimed: true };
  assert.equal(
    latenessWhileMeasuring(monitor, { ...run("runner"), steps: [resets] }, undefined),
    0,
  );
});
