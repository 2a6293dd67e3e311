import assert from "node:assert/strict";
import { LINUX_HZ, maxLatenessMs, tickMs, timerWheel, wheelLevel } from "./timer_wheel.ts";

Deno.test("wheelLevel follows LVL_START(n) = 63 << 3 (n - 1) ticks at HZ 250", () => {
  assert.equal(tickMs(250), 4);
  assert.equal(wheelLevel(248, 250), 0); // 62 ticks
  assert.equal(wheelLevel(252, 250), 1); // 63 ticks
  assert.equal(wheelLevel(2012, 250), 1); // 503 ticks
  assert.equal(wheelLevel(2016, 250), 2); // 504 ticks
  assert.equal(wheelLevel(120_000, 250), 3);
  assert.equal(wheelLevel(7_200_000, 250), 5);
});

Deno.test("wheelLevel: LVL_DEPTH is 8 at HZ 100 and 9 above", () => {
  const day = 86_400_000;
  assert.equal(wheelLevel(20 * day, 100), 7);
  assert.equal(wheelLevel(20 * day, 250), 8);
  assert.equal(wheelLevel(20 * day, 1000), 8);
});

Deno.test("maxLatenessMs: one tick on short timers, at most about 12.7 % on long ones", () => {
  assert.equal(maxLatenessMs(200, 250), 8);
  assert.equal(maxLatenessMs(1000, 250), 36);
  assert.equal(maxLatenessMs(5000, 250), 260);
  assert.equal(maxLatenessMs(120_000, 250), 2052);
  for (const hz of LINUX_HZ) {
    const tick = tickMs(hz);
    for (let ms = 300; ms < 40_000_000; ms = Math.ceil(ms * 1.07)) {
      assert.ok(maxLatenessMs(ms, hz) - tick <= ms * 8 / 63 + tick, `${ms} ms at HZ ${hz}`);
    }
  }
});

Deno.test("maxLatenessMs matches the granularity tables of kernel/time/timer.c", () => {
  // A 75 s keepalive interval: level 3 (2048 ms) at HZ 250, level 4 (4096 ms) at HZ 1000,
  // level 3 (512 ticks of 3.33 ms) at HZ 300, level 3 (5120 ms) at HZ 100.
  assert.equal(maxLatenessMs(75_000, 250), 2048 + 4);
  assert.equal(maxLatenessMs(75_000, 1000), 4096 + 1);
  assert.ok(Math.abs(maxLatenessMs(75_000, 300) - (1706.67 + 3.33)) < 0.01);
  assert.equal(maxLatenessMs(75_000, 100), 5120 + 10);
});

Deno.test("timerWheel(hz) is the wheel of that HZ", () => {
  const w = timerWheel(1000);
  assert.equal(w.hz, 1000);
  assert.equal(w.tickMs, 1);
  assert.deepEqual(w.candidates, [w]);
  assert.equal(w.latenessMs(75_000), 4097);
  assert.equal(timerWheel(250).latenessMs(75_000), 2052);
  assert.throws(() => timerWheel(0), RangeError);
  assert.throws(() => timerWheel(2.5), RangeError);
});

Deno.test("timerWheel(undefined) is the coarsest of HZ 100, 250, 300 and 1000 at every delay", () => {
  const w = timerWheel(undefined);
  assert.equal(w.hz, undefined);
  assert.equal(w.tickMs, 10);
  assert.deepEqual(w.candidates.map((c) => c.hz), [100, 250, 300, 1000]);
  for (let ms = 1; ms < 40_000_000; ms = Math.ceil(ms * 1.05)) {
    const worst = Math.max(...LINUX_HZ.map((hz) => maxLatenessMs(ms, hz)));
    assert.equal(w.latenessMs(ms), worst, `${ms} ms`);
    for (const hz of LINUX_HZ) assert.ok(w.latenessMs(ms) >= maxLatenessMs(ms, hz));
  }
  assert.equal(w.latenessMs(75_000), 5130); // HZ 100's level 3
  assert.equal(w.latenessMs(200), 20); // HZ 100's 10 ms tick, twice
});
