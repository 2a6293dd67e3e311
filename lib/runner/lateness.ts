/**
 * The runner's own lateness: how late its event loop runs a timer. Every figure the runner
 * takes by reading (a socket-table poll that sees a release, the end of an outage it times) is
 * late by as much, so the runner measures it, admits new scenarios only while it stays small,
 * and reruns a scenario whose figures were taken while it was too late.
 *
 * The tolerance: a release seen by a socket-table poll may be up to one poll interval late
 * (15 ms, 50 ms after a quiet second) plus the event loop's lateness. With the lateness at most
 * 100 ms, such a figure is at most 150 ms late, which no verdict of these suites turns on: the
 * budgets are 1 s and longer, and a server told by a FIN or RST that closes within them sends
 * its own FIN or RST, timed by the capture (the kernel's clock), not by a poll. An outage the
 * runner times (a 2 s blip) lasts at most 100 ms longer: 5 %.
 *
 * @module
 */

import { monotonicMs } from "../libc/libc.ts";
import type { Observations } from "../observe/observations.ts";

/** The most the event loop may be late while a scenario measures (see the module doc). */
export const LATENESS_TOLERANCE_MS = 100;
/** New scenarios start only while the recent lateness stays below this. */
export const ADMIT_BELOW_MS = LATENESS_TOLERANCE_MS / 2;
/** Scenarios start at most this often while others run (see Admission). */
const ADMIT_SPACING_MS = 100;
/**
 * The longest a last try keeps other scenarios from starting (see Admission): its setting up
 * and its fault take seconds; a scenario whose steps wait longer before the client goes down
 * (a NAT's idle timeout) does not hold the run up for as long.
 */
const LAST_TRY_CLOSES_MS = 30_000;
/** How often the monitor's timer is due. */
const TICK_MS = 10;
/** Lateness is kept per bucket of this many ms: its largest value. */
const BUCKET_MS = 100;
/** "Recent" for admission: the last this many ms. */
const RECENT_MS = 1000;

/**
 * Measures how late a timer due every 10 ms fires, while at least one user holds it
 * (`hold()`); keeps the largest lateness per 100 ms for the whole time it ran.
 */
export class LatenessMonitor {
  #holders = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due = 0;
  /** Start of bucket 0 on the monotonic clock. */
  #origin: number | undefined;
  #buckets: number[] = [];

  /** Starts measuring (if not already); the returned function stops this hold. */
  hold(): () => void {
    if (this.#holders++ === 0) this.#start();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (--this.#holders === 0) this.#stop();
    };
  }

  /** The largest lateness in the last second (ms). */
  recentMs(): number {
    return this.maxBetween(monotonicMs() - RECENT_MS, monotonicMs());
  }

  /** The largest lateness between two monotonic moments (ms), 0 where nothing was measured. */
  maxBetween(from: number, to: number): number {
    return this.bucketsBetween(from, to).reduce((a, b) => Math.max(a, b), 0);
  }

  /** The largest lateness of each 100 ms between two monotonic moments (ms). */
  bucketsBetween(from: number, to: number): number[] {
    if (this.#origin === undefined || to < from) return [];
    const first = Math.max(0, Math.floor((from - this.#origin) / BUCKET_MS));
    const last = Math.floor((to - this.#origin) / BUCKET_MS);
    return this.#buckets.slice(first, last + 1);
  }

  /** Records a lateness of `lateMs` at monotonic moment `t`. */
  record(t: number, lateMs: number): void {
    this.#origin ??= t;
    this.#recordIn(this.#bucketOf(t), lateMs);
  }

  /** The bucket of monotonic moment `t` (negative before the origin). */
  #bucketOf(t: number): number {
    return Math.floor((t - (this.#origin ?? t)) / BUCKET_MS);
  }

  #recordIn(i: number, lateMs: number): void {
    if (i < 0) return;
    while (this.#buckets.length <= i) this.#buckets.push(0);
    this.#buckets[i] = Math.max(this.#buckets[i] ?? 0, lateMs);
  }

  #start(): void {
    this.#origin ??= monotonicMs();
    this.#due = monotonicMs() + TICK_MS;
    const schedule = () => {
      const timer = setTimeout(tick, TICK_MS);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    };
    const tick = () => {
      const now = monotonicMs();
      this.recordStall(this.#due, now);
      this.#due = now + TICK_MS;
      schedule();
    };
    schedule();
  }

  /**
   * The timer due at `due` ran at `now`: whatever the runner meant to read at a moment in
   * between, it read at `now`, late by `now` less that moment. So each 100 ms the stall covers
   * gets its own lateness, not only the one where it ended: a figure taken inside a long stall
   * is late even when no tick fell in its window.
   */
  recordStall(due: number, now: number): void {
    this.#origin ??= due;
    // Counted by bucket index, never by stepping a float moment to the next bucket's start: a
    // start computed from the origin can land just short of the boundary it was computed from,
    // and a loop stepping by it would never end.
    const first = this.#bucketOf(due);
    const last = this.#bucketOf(now);
    for (let i = first; i < last; i++) {
      const from = Math.max(due, this.#origin + i * BUCKET_MS);
      this.#recordIn(i, now - from);
    }
    this.#recordIn(last, Math.max(0, now - due));
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * How late the runner was when it acted on or read this scenario's figures: in the moments
 * before each step it took from the fault on (a heal that comes late lengthens the outage),
 * and before it saw the release (a socket lookup). The fault's own moment counts only when the
 * runner's clock gave it and the step that took the client down is timed: one the kernel gave
 * (the capture's first segment, the netlink call that switched a rule) is right however late the
 * runner asked, and every time counts from it.
 * Lateness in between (the middle of a 30 s outage, a wait) bends no figure; figures from the
 * kernel's clock (the capture, receive timestamps) are not bent by it at all.
 */
export function latenessWhileMeasuring(
  monitor: LatenessMonitor,
  obs: Pick<Observations, "run" | "steps">,
  releaseMs: number | undefined,
): number {
  const from = obs.run.faultAt;
  if (from === undefined) return 0;
  const window = (t: number) => monitor.maxBetween(t - ACTION_WINDOW_MS, t);
  const byRunner = obs.run.faultMoment === undefined || obs.run.faultMoment.source === "runner";
  // Taken down by an untimed step (a churn's resets): its moment is as untimed as the step.
  const untimedDown = obs.steps.some((s) => s.t === from && s.untimed);
  const moments = [
    ...(byRunner && !untimedDown ? [from] : []),
    ...obs.steps.filter((s) => s.t >= from && !s.untimed).map((s) => s.sentAt ?? s.t),
    ...(releaseMs === undefined ? [] : [from + releaseMs]),
  ];
  return Math.max(0, ...moments.map(window));
}

/**
 * How far before an action or a reading the runner's lateness can have delayed it: the quiet
 * poll interval (50 ms) and more.
 */
const ACTION_WINDOW_MS = 100;

/**
 * The runner's lateness, one per process: every scenario shares its event loop, and so does
 * the benchmark that watches them.
 */
export const runnerLateness: LatenessMonitor = new LatenessMonitor();

/**
 * Lets scenarios start one at a time while the runner is on time: a scenario starts when
 * nothing else runs (someone must go on), or when the lateness of the last second is below
 * ADMIT_BELOW_MS and the one admitted before it started at least `spacingMs` ago, so that the
 * lateness its own setting up causes is measured before the next is let in. Checks every 20 ms.
 */
export class Admission {
  #last = -Infinity;
  /** Last tries waiting or setting up: nothing new starts meanwhile. */
  #closed = 0;
  /** The last try before: the next starts once its client has gone down. */
  #lastTries: Promise<void> = Promise.resolve();

  constructor(
    readonly monitor: LatenessMonitor,
    readonly spacingMs = ADMIT_SPACING_MS,
    readonly lastTryClosesMs = LAST_TRY_CLOSES_MS,
  ) {}

  /** Resolves when the caller may start; `running()` counts the scenarios running now. */
  async enter(running: () => number, signal?: AbortSignal): Promise<void> {
    while (!signal?.aborted && (this.#closed > 0 || running() > 0)) {
      if (this.#closed === 0 && this.#onTime()) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.#last = monotonicMs();
  }

  #onTime(): boolean {
    return this.monitor.recentMs() < ADMIT_BELOW_MS && monotonicMs() - this.#last >= this.spacingMs;
  }

  /**
   * The last resort of a scenario measured late again and again: `section` starts once the
   * runner is on time, and no other scenario starts from the moment it asks until its client
   * has gone down (`section` calls `down`), it ends, or `lastTryClosesMs` has passed. The
   * scenarios already running go on (most of them only wait): waiting for them to end would
   * stop the run for as long as its longest scenario. Last tries take their turns one at a time:
   * each starts once the one before has taken its client down.
   */
  lastTry<T>(
    running: () => number,
    section: (down: () => void) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    this.#closed++;
    let open = false;
    let reopened = () => {};
    const turnEnds = new Promise<void>((resolve) => reopened = resolve);
    const reopen = () => {
      if (open) return;
      open = true;
      this.#closed--;
      reopened();
    };
    // The next last try waits for this one's client to go down, not for its end.
    const previous = this.#lastTries;
    this.#lastTries = turnEnds;
    return (async () => {
      await previous;
      while (!signal?.aborted && running() > 0 && !this.#onTime()) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      this.#last = monotonicMs();
      const timer = setTimeout(reopen, this.lastTryClosesMs);
      try {
        return await section(reopen);
      } finally {
        clearTimeout(timer);
        reopen();
      }
    })();
  }
}
