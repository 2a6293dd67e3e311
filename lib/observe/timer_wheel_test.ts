import assert from "node:assert/strict";
import { maxLatenessMs, tickMs, wheelLevel } from "./timer_wheel.ts";

Deno.test("wheelLevel follows LVL_START(n) = 63 << 3 (n - 1) ticks at HZ 250", () => {
  assert.equal(tickMs(), 4);
  assert.equal(wheelLevel(248), 0); // 62 ticks
  assert.equal(wheelLevel(252), 1); // 63 ticks
  assert.equal(wheelLevel(2012), 1); // 503 ticks
  assert.equal(wheelLevel(2016), 2); // 504 ticks
  assert.equal(wheelLevel(120_000), 3);
  assert.equal(wheelLevel(7_200_000), 5);
});

Deno.test("maxLatenessMs: one tick on short timers, at most about 12.7 % on long ones", () => {
  assert.equal(maxLatenessMs(200), 8);
  assert.equal(maxLatenessMs(1000), 36);
  assert.equal(maxLatenessMs(5000), 260);
  assert.equal(maxLatenessMs(120_000), 2052);
  for (let ms = 300; ms < 40_000_000; ms = Math.ceil(ms * 1.07)) {
    assert.ok(maxLatenessMs(ms) - 4 <= ms * 8 / 63 + 4, `${ms} ms`);
  }
});
