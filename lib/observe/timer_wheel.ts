/**
 * How late a kernel timer fires. TCP's keepalive, retransmission and window-probe timers are
 * `timer_list` timers on the timer wheel (kernel/time/timer.c), which never fires a timer early
 * and fires it up to one granularity of its wheel level late:
 *
 * - a timer armed `delta` ticks ahead goes to level `n`, the highest with
 *   `delta >= LVL_START(n) = 63 << 3 (n - 1)` ticks (level 0 below 63 ticks);
 * - `calc_index()` rounds its expiry up to the level's granularity, `8^n` ticks: the timer
 *   fires between 1 tick and `8^n` ticks after its expiry;
 * - `msecs_to_jiffies()` rounds the requested milliseconds up to whole ticks: one more tick.
 *
 * With CONFIG_HZ=250 (a tick is 4 ms) that is 4 ms on timers under 252 ms, 32 ms up to about
 * 2 s, 256 ms up to about 16 s, 2.048 s up to about 2 min, 16.4 s up to about 17 min and
 * 131 s up to about 2.3 h: one tick on short timers and at most 8/63 (about 12.7 %) of the
 * delay on long ones. Lateness adds up along a chain of timers each armed when the previous
 * one fired (keepalive probes, retransmission backoff).
 *
 * @module
 */

/** CONFIG_HZ of the kernel the model describes (this project's kernel: 6.18, HZ=250). */
export const KERNEL_HZ = 250;

/** Levels of the wheel when HZ > 100 (LVL_DEPTH). */
const LVL_DEPTH = 9;

/** One tick in milliseconds. */
export function tickMs(hz: number = KERNEL_HZ): number {
  return 1000 / hz;
}

/** The wheel level a timer armed `delayMs` ahead goes to (calc_wheel_index()). */
export function wheelLevel(delayMs: number, hz: number = KERNEL_HZ): number {
  const ticks = Math.ceil(delayMs / tickMs(hz));
  let level = 0;
  while (level < LVL_DEPTH - 1 && ticks >= 63 * 8 ** level) level++;
  return level;
}

/**
 * The most a timer armed `delayMs` ahead fires late: its level's granularity plus the tick
 * msecs_to_jiffies() rounds up.
 *
 * @example
 * ```ts
 * import { maxLatenessMs } from "./timer_wheel.ts";
 * maxLatenessMs(100); // 8: level 0, 4 ms + one tick
 * maxLatenessMs(120_000); // 2052: level 3, 2048 ms + one tick
 * ```
 */
export function maxLatenessMs(delayMs: number, hz: number = KERNEL_HZ): number {
  const tick = tickMs(hz);
  return 8 ** wheelLevel(delayMs, hz) * tick + tick;
}
