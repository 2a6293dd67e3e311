/**
 * How late a kernel timer fires. TCP's keepalive, retransmission and window-probe timers are
 * `timer_list` timers on the timer wheel (kernel/time/timer.c), which never fires a timer early
 * and fires it up to one granularity of its wheel level late:
 *
 * - a timer armed `delta` ticks ahead goes to level `n`, the highest with
 *   `delta >= LVL_START(n) = 63 << 3 (n - 1)` ticks (level 0 below 63 ticks), of the
 *   LVL_DEPTH levels the wheel has (9 when HZ > 100, else 8);
 * - `calc_index()` rounds its expiry up to the level's granularity, `8^n` ticks: the timer
 *   fires between 1 tick and `8^n` ticks after its expiry;
 * - `msecs_to_jiffies()` rounds the requested milliseconds up to whole ticks: one more tick.
 *
 * A tick is 1/CONFIG_HZ s, so the lateness depends on the kernel's CONFIG_HZ (kernel_hz.ts
 * reads it). With CONFIG_HZ=250 (a tick is 4 ms) that is 4 ms on timers under 252 ms, 32 ms up
 * to about 2 s, 256 ms up to about 16 s, 2.048 s up to about 2 min, 16.4 s up to about 17 min
 * and 131 s up to about 2.3 h; a 75 s timer is up to 2.05 s late at HZ=250, 4.1 s at HZ=1000
 * and 5.13 s at HZ=100. One tick on short timers and at most 8/63 (about 12.7 %) of the delay
 * on long ones, whatever HZ. Lateness adds up along a chain of timers each armed when the
 * previous one fired (keepalive probes, retransmission backoff).
 *
 * When HZ is not known, {@linkcode timerWheel} models the coarsest wheel Linux allows: at every
 * delay the worst lateness over {@linkcode LINUX_HZ}, so a tolerance stated from it is never too
 * tight.
 *
 * @module
 */

/** The CONFIG_HZ values Linux offers (kernel/Kconfig.hz): the candidates when HZ is unknown. */
export const LINUX_HZ: readonly number[] = [100, 250, 300, 1000];

/** The timer wheel of one kernel, or the coarsest of them when its HZ is unknown. */
export interface TimerWheel {
  /** The kernel's CONFIG_HZ, or undefined: not known, the coarsest of {@linkcode LINUX_HZ}. */
  readonly hz: number | undefined;
  /** One tick in milliseconds (unknown HZ: the longest, 10 ms at HZ=100). */
  readonly tickMs: number;
  /** The wheels it stands for: itself, or one per HZ of {@linkcode LINUX_HZ} when HZ is unknown. */
  readonly candidates: readonly TimerWheel[];
  /**
   * The most a timer armed `delayMs` ahead fires late: its level's granularity plus the tick
   * msecs_to_jiffies() rounds up (unknown HZ: the most over every candidate).
   */
  latenessMs(delayMs: number): number;
}

/**
 * The timer wheel of a kernel with CONFIG_HZ `hz`; without it (undefined), the coarsest wheel
 * Linux allows.
 *
 * @example
 * ```ts
 * import { timerWheel } from "./timer_wheel.ts";
 * timerWheel(250).latenessMs(75_000); // 2052: level 3, 2048 ms + one tick
 * timerWheel(1000).latenessMs(75_000); // 4097: level 4, 4096 ms + one tick
 * timerWheel(undefined).latenessMs(75_000); // 5130: HZ 100's level 3, the worst of them
 * ```
 */
export function timerWheel(hz: number | undefined): TimerWheel {
  if (hz === undefined) return COARSEST;
  if (!Number.isInteger(hz) || hz < 1) {
    throw new RangeError(`CONFIG_HZ must be a positive integer: received "${hz}"`);
  }
  const candidates: TimerWheel[] = [];
  const wheel: TimerWheel = {
    hz,
    tickMs: tickMs(hz),
    candidates,
    latenessMs: (delayMs) => maxLatenessMs(delayMs, hz),
  };
  candidates.push(wheel);
  return wheel;
}

const KNOWN: readonly TimerWheel[] = LINUX_HZ.map((hz) => timerWheel(hz));

const COARSEST: TimerWheel = {
  hz: undefined,
  tickMs: Math.max(...KNOWN.map((w) => w.tickMs)),
  candidates: KNOWN,
  latenessMs: (delayMs) => Math.max(...KNOWN.map((w) => w.latenessMs(delayMs))),
};

/** One tick in milliseconds at CONFIG_HZ `hz`. */
export function tickMs(hz: number): number {
  return 1000 / hz;
}

/** Levels of the wheel (LVL_DEPTH): 9 when HZ > 100, else 8. */
export function wheelDepth(hz: number): number {
  return hz > 100 ? 9 : 8;
}

/** The wheel level a timer armed `delayMs` ahead goes to at CONFIG_HZ `hz` (calc_wheel_index()). */
export function wheelLevel(delayMs: number, hz: number): number {
  const ticks = Math.ceil(delayMs / tickMs(hz));
  const depth = wheelDepth(hz);
  let level = 0;
  while (level < depth - 1 && ticks >= 63 * 8 ** level) level++;
  return level;
}

/**
 * The most a timer armed `delayMs` ahead fires late at CONFIG_HZ `hz`: its level's granularity
 * plus the tick msecs_to_jiffies() rounds up.
 *
 * @example
 * ```ts
 * import { maxLatenessMs } from "./timer_wheel.ts";
 * maxLatenessMs(100, 250); // 8: level 0, 4 ms + one tick
 * maxLatenessMs(120_000, 250); // 2052: level 3, 2048 ms + one tick
 * ```
 */
export function maxLatenessMs(delayMs: number, hz: number): number {
  const tick = tickMs(hz);
  return 8 ** wheelLevel(delayMs, hz) * tick + tick;
}
