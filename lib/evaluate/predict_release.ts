/**
 * When the kernel alone ends a connection whose server still holds it, from the situation
 * observed during the wait (the socket table's events and the packets at the router), the
 * socket's options and its namespace's sysctls: the rules of net/ipv4/tcp_timer.c
 * (tcp_keepalive_timer, tcp_write_timeout / retransmits_timed_out, tcp_probe_timer) and the
 * lateness of the timer wheel (lib/observe/timer_wheel.ts) at the kernel's CONFIG_HZ, or, where
 * it is not known, of the coarsest wheel Linux allows. Always a prediction, labelled as one;
 * where the observed situation has no exact model, none at all. The rules are written down in
 * suites/INTERPRETING.md ("Predictions").
 *
 * @module
 */

import type { ReleaseHow, SocketOptions, TcpSysctls } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import { lastFromClient, type PacketEvent } from "../observe/capture.ts";
import type { PeerBehaviour } from "../observe/observations.ts";
import type { SocketEvent } from "../observe/socket_watch.ts";
import { type TimerWheel, timerWheel } from "../observe/timer_wheel.ts";

export type { ReleaseHow, SocketOptions, TcpSysctls, TimerWheel };

/** What the connection is doing when its peer goes down. */
export type Situation = "idle" | "unacked-data" | "zero-window";

/**
 * The kernel mechanism that ends the connection: the keepalive timer (its TCP_KEEPCNT or, when
 * set, TCP_USER_TIMEOUT rule), TCP_USER_TIMEOUT on unacknowledged data or a closed window, the
 * tcp_retries2 model, tcp_retries2 unanswered window probes, the peer's RST (to a keepalive
 * probe or a retransmission), or none.
 */
export type ReleaseMechanism =
  | "keepalive"
  | "user_timeout"
  | "retransmission_timeout"
  | "reset_by_peer"
  | "zero_window_probes"
  | "none";

/** What predictFromObservations reads. Times are monotonic milliseconds (monotonicMs). */
export interface PredictionInput {
  /** The server socket's options, read just before the fault. */
  options: SocketOptions;
  /** The server namespace's TCP sysctls. */
  sysctls: TcpSysctls;
  /**
   * CONFIG_HZ of the server's kernel, which sets how late its timers fire; undefined (not
   * recorded, or the kernel does not say): the coarsest timer wheel Linux allows.
   */
  kernelHz?: number | undefined;
  /** Socket watch events of the connection under test, oldest first. */
  socket: readonly SocketEvent[];
  /** Captured segments of this connection only, in capture order; undefined: no capture. */
  packets: readonly PacketEvent[] | undefined;
  /** The fault moment. */
  faultAt: number;
  /** The last moment data moved on the connection before the fault, as the steps recorded it. */
  lastTrafficAt: number | undefined;
  /** Until when the connection was watched without a release. */
  watchedUntil: number;
  /**
   * What the fault makes the peer do when the server next sends to it (a vanished host or a
   * NAT that drops strays: silent; a frozen process's kernel: answers; a rebooted host or a NAT
   * that resets strays: resets). Used only while nothing observed says it: what was observed
   * always wins.
   */
  peerExpected?: PeerBehaviour;
}

/** Tolerance of a predicted moment, milliseconds. */
export interface Tolerance {
  /** How much earlier, ms. */
  early: number;
  /** How much later, ms. */
  late: number;
}

/** What the kernel alone will do with the connection. */
export type PredictionOutcome =
  | {
    kind: "release";
    /** The predicted release (monotonic ms): the earliest moment the kernel's rule allows. */
    at: number;
    /** What the kernel counts from, e.g. "last-traffic", "first-retransmission". */
    from: string;
    /** That moment (monotonic ms). */
    fromAt: number;
    /** How much earlier or later than `at` the release may be observed. */
    toleranceMs: Tolerance;
    mechanism: ReleaseMechanism;
    /** The label the release will carry when it happens as predicted. */
    how: ReleaseHow;
    /** Whether the server's kernel sends RST as it gives up (only the keepalive abort does). */
    sendsRst: boolean;
    /** The observed situation the model was applied to, in words. */
    situation: string;
    /** How the figure follows, in words that read after the mechanism ("keepalive: idle 2 s ..."). */
    reason: string;
  }
  | { kind: "never"; situation: string; reason: string; because: string }
  | { kind: "unknown"; reason: string };

/** How long an answer to a probe may take to come back (a slow, queueing client link). */
const ANSWER_MS = 1000;

/** TCP_RTO_MIN (HZ / 5): the base of the kernel's retransmission model, not tunable. */
const RTO_MIN_MS = 200;

/**
 * Slack for observing the release: the socket table is polled every 15 ms (50 ms once quiet),
 * the server needs a moment to close the fd after the error, the runner to be scheduled.
 */
export const OBSERVATION_LATE_MS = 100;
/**
 * The capture's clock conversion and the kernel's one-jiffy slack in retransmits_timed_out(), at
 * HZ=250; where a jiffy is longer (HZ=100, or HZ unknown), the early tolerance grows with it
 * (earlyToleranceMs).
 */
export const OBSERVATION_EARLY_MS = 10;

/** The capture's clock conversion alone: OBSERVATION_EARLY_MS less HZ=250's 4 ms jiffy. */
const CAPTURE_CLOCK_MS = 6;

/** How much earlier than predicted a release may be observed on `wheel`'s kernel. */
function earlyToleranceMs(wheel: TimerWheel): number {
  return Math.max(OBSERVATION_EARLY_MS, Math.ceil(CAPTURE_CLOCK_MS + wheel.tickMs));
}

/** The wheel of a kernel whose HZ is not known: the coarsest Linux allows. */
const UNKNOWN_HZ: TimerWheel = timerWheel(undefined);

/**
 * The retransmission model of tcp_model_timeout(): the time `retries2` retransmissions take
 * when the RTO starts at TCP_RTO_MIN and doubles up to `rtoMaxMs`.
 *
 * @example
 * ```ts
 * import { retransmissionModelMs } from "./predict_release.ts";
 * retransmissionModelMs(15, 120_000); // 924_600
 * ```
 */
export function retransmissionModelMs(retries2: number, rtoMaxMs: number): number {
  let total = 0;
  for (let i = 0, rto = RTO_MIN_MS; i <= retries2; i++, rto *= 2) total += Math.min(rto, rtoMaxMs);
  return total;
}

/** The earliest and latest moment a kernel rule ends the connection, ms after a reference. */
export interface AbortWindow {
  /** The earliest moment the rule allows. */
  earliestMs: number;
  /** The latest moment the timers' lateness allows. */
  latestMs: number;
}

/** How a chain of timers ends the connection. */
export type AbortRule =
  /** At firing `firing` (counting the anchor as 0), whatever the time. */
  | { firing: number }
  /** At the first firing from `minFiring` on whose time since the reference reaches `thresholdMs`. */
  | { thresholdMs: number; minFiring: number };

/** Firings searched at most: every rule of the kernel ends far sooner. */
const MAX_FIRINGS = 10_000;

/**
 * When a chain of kernel timers ends the connection: firing 0 at `anchorMs` after the reference
 * (up to `anchorLateMs` late), each further firing armed `delay(k)` ms after firing k - 1 fired
 * and so up to `wheel.latenessMs(delay(k))` late, lateness adding up along the chain. Under a
 * time rule the kernel checks the real elapsed time at each firing, so a late firing may already
 * qualify: the window runs from the first firing that may qualify to the first that must.
 * `wheel` is the kernel's timer wheel (default: HZ unknown, the coarsest).
 *
 * @example
 * ```ts
 * import { abortWindow } from "./predict_release.ts";
 * import { timerWheel } from "../observe/timer_wheel.ts";
 * // Keepalive: first probe 2 s after the last segment, then every 1 s, abort at the 3rd firing.
 * abortWindow(2000, 36, () => 1000, { firing: 3 }, timerWheel(250)); // { earliestMs: 5000, latestMs: 5144 }
 * ```
 */
export function abortWindow(
  anchorMs: number,
  anchorLateMs: number,
  delay: (firing: number) => number,
  rule: AbortRule,
  wheel: TimerWheel = UNKNOWN_HZ,
): AbortWindow {
  let nominal = anchorMs, late = anchorLateMs;
  if ("firing" in rule) {
    for (let k = 1; k <= rule.firing; k++) {
      const d = delay(k);
      nominal += d;
      late += wheel.latenessMs(d);
    }
    return { earliestMs: nominal, latestMs: nominal + late };
  }
  let earliest: number | undefined;
  for (let k = 0; k <= MAX_FIRINGS; k++) {
    if (k > 0) {
      const d = delay(k);
      if (!(d > 0)) break;
      nominal += d;
      late += wheel.latenessMs(d);
    }
    if (k < rule.minFiring) continue;
    if (earliest === undefined && nominal + late >= rule.thresholdMs) {
      earliest = Math.max(nominal, rule.thresholdMs);
    }
    if (nominal >= rule.thresholdMs) {
      return { earliestMs: earliest ?? nominal, latestMs: nominal + late };
    }
  }
  throw new RangeError(`No timer firing reaches "${rule.thresholdMs}" ms`);
}

/**
 * When the keepalive timer aborts a silent peer, in ms after the last segment received from
 * it: the first probe KEEPIDLE after it, then one every KEEPINTVL; without TCP_USER_TIMEOUT the
 * abort (RST, then ETIMEDOUT) comes at the firing after TCP_KEEPCNT unanswered probes; with
 * it, at the first firing after a probe where the silence has lasted the user timeout
 * (TCP_KEEPCNT ignored). `probesSeen` are the probes already observed (ms after the last
 * segment): the chain then starts from the last of them, exactly. `wheel` is the kernel's timer
 * wheel (default: HZ unknown, the coarsest).
 *
 * @example
 * ```ts
 * import { keepaliveAbortWindow } from "./predict_release.ts";
 * import { timerWheel } from "../observe/timer_wheel.ts";
 * const options = { keepalive: true, keepIdleS: 2, keepIntvlS: 1, keepCnt: 3, userTimeoutMs: 0, rtoMaxMs: 120_000 };
 * keepaliveAbortWindow(options, [], timerWheel(250)); // { earliestMs: 5000, latestMs: 5144 }
 * ```
 */
export function keepaliveAbortWindow(
  options: SocketOptions,
  probesSeen: readonly number[] = [],
  wheel: TimerWheel = UNKNOWN_HZ,
): AbortWindow {
  const idleMs = options.keepIdleS * 1000, intvlMs = options.keepIntvlS * 1000;
  const last = probesSeen.length - 1;
  const anchor = probesSeen[last] ?? idleMs;
  const anchorLate = last >= 0 ? 0 : wheel.latenessMs(idleMs);
  const seen = Math.max(0, last);
  if (options.userTimeoutMs === 0) {
    return abortWindow(anchor, anchorLate, () => intvlMs, {
      firing: Math.max(1, options.keepCnt - seen),
    }, wheel);
  }
  return abortWindow(anchor, anchorLate, () => intvlMs, {
    thresholdMs: options.userTimeoutMs,
    minFiring: 1,
  }, wheel);
}

/**
 * When TCP_USER_TIMEOUT ends unacknowledged data or a closed window, in ms after the kernel's
 * start (the first retransmission of the oldest unacknowledged segment, or the first
 * zero-window probe): the kernel clamps its timer to fire at the start plus the user timeout
 * (tcp_clamp_rto_to_user_timeout, tcp_clamp_probe0_to_user_timeout), one timer late at most.
 * `wheel` is the kernel's timer wheel (default: HZ unknown, the coarsest).
 *
 * @example
 * ```ts
 * import { userTimeoutAbortWindow } from "./predict_release.ts";
 * import { timerWheel } from "../observe/timer_wheel.ts";
 * userTimeoutAbortWindow(5000, 120_000, timerWheel(250)); // { earliestMs: 5000, latestMs: 5260 }
 * ```
 */
export function userTimeoutAbortWindow(
  userTimeoutMs: number,
  rtoMaxMs: number,
  wheel: TimerWheel = UNKNOWN_HZ,
): AbortWindow {
  return {
    earliestMs: userTimeoutMs,
    latestMs: userTimeoutMs + wheel.latenessMs(Math.min(userTimeoutMs, rtoMaxMs)),
  };
}

/**
 * When the tcp_retries2 model ends unacknowledged data, in ms after the first retransmission:
 * retransmits_timed_out() aborts at the first retransmission timer firing at or after the
 * model (retransmissionModelMs), the RTO doubling from `rtoMs` (the timeout that fired the
 * first retransmission) up to `rtoMaxMs`. `seen` are the retransmissions of that segment
 * already observed (ms after the first, the first being 0): the chain continues from the last.
 * `wheel` is the kernel's timer wheel (default: HZ unknown, the coarsest).
 *
 * @example
 * ```ts
 * import { retries2AbortWindow } from "./predict_release.ts";
 * import { timerWheel } from "../observe/timer_wheel.ts";
 * retries2AbortWindow(15, 204, 120_000, [0], timerWheel(250)); // earliest 924_600, latest one RTO later
 * ```
 */
export function retries2AbortWindow(
  retries2: number,
  rtoMs: number,
  rtoMaxMs: number,
  seen: readonly number[] = [0],
  wheel: TimerWheel = UNKNOWN_HZ,
): AbortWindow {
  const model = retransmissionModelMs(retries2, rtoMaxMs);
  const last = Math.max(0, seen.length - 1);
  const delay = (k: number) => Math.min(rtoMs * 2 ** (last + k), rtoMaxMs);
  return abortWindow(seen[last] ?? 0, 0, delay, { thresholdMs: model, minFiring: 1 }, wheel);
}

/** The kernel's own deadline for a connection whose peer went silent (the model alone). */
export interface ReleasePrediction {
  /** Always a prediction. */
  predicted: true;
  /** The situation the model was applied to. */
  situation: Situation;
  /**
   * Milliseconds from the reference point of the situation to the abort, or "never": for
   * `idle` the last segment received, for `unacked-data` the first retransmission of the
   * oldest unacknowledged segment, for `zero-window` the first zero-window probe.
   */
  afterMs: number | "never";
  /** The kernel mechanism that ends it. */
  mechanism: ReleaseMechanism;
  /** Whether the kernel sends RST as it gives up (only the keepalive path does). */
  sendsRst: boolean;
  /** How the figure follows from the options, in one sentence. */
  reason: string;
}

/**
 * The model alone: when the kernel declares a silent peer dead in `situation` (nominal
 * timers, no lateness). predictFromObservations applies it to what was observed.
 *
 * @example
 * ```ts ignore
 * predictRelease(options, sysctls, "idle"); // e.g. { afterMs: 7_875_000, mechanism: "keepalive", ... }
 * ```
 */
export function predictRelease(
  options: SocketOptions,
  sysctls: TcpSysctls,
  situation: Situation,
): ReleasePrediction {
  const user = options.userTimeoutMs;
  const base = { predicted: true as const, situation };
  if (situation === "idle") {
    if (!options.keepalive) {
      return {
        ...base,
        afterMs: "never",
        mechanism: "none",
        sendsRst: false,
        reason: "SO_KEEPALIVE is off: nothing probes an idle connection",
      };
    }
    const idleMs = options.keepIdleS * 1000, intvlMs = options.keepIntvlS * 1000;
    if (user === 0) {
      return {
        ...base,
        afterMs: idleMs + options.keepCnt * intvlMs,
        mechanism: "keepalive",
        sendsRst: true,
        reason: `keepalive: idle ${options.keepIdleS} s + ${options.keepCnt} probes × ` +
          `${options.keepIntvlS} s`,
      };
    }
    // The keepalive timer fires at idle, idle + intvl, ...; it aborts at the first firing
    // where the silence has lasted the user timeout and at least one probe went out.
    const firings = Math.max(1, Math.ceil((user - idleMs) / intvlMs));
    return {
      ...base,
      afterMs: idleMs + firings * intvlMs,
      mechanism: "keepalive",
      sendsRst: true,
      reason: `keepalive with TCP_USER_TIMEOUT ${user} ms: first keepalive timer firing ` +
        `(idle ${options.keepIdleS} s, every ${options.keepIntvlS} s) at or after it, ` +
        `after ${firings} probes; TCP_KEEPCNT ignored`,
    };
  }
  if (user > 0) {
    return {
      ...base,
      afterMs: user,
      mechanism: "user_timeout",
      sendsRst: false,
      reason: situation === "unacked-data"
        ? `TCP_USER_TIMEOUT ${user} ms replaces the tcp_retries2 model`
        : `TCP_USER_TIMEOUT ${user} ms bounds a zero-window stall`,
    };
  }
  if (situation === "zero-window") {
    return {
      ...base,
      afterMs: "never",
      mechanism: "none",
      sendsRst: false,
      reason: "no TCP_USER_TIMEOUT: a peer that keeps answering zero-window probes is kept forever",
    };
  }
  return {
    ...base,
    afterMs: retransmissionModelMs(sysctls.retries2, options.rtoMaxMs),
    mechanism: "retransmission_timeout",
    sendsRst: false,
    reason: `tcp_retries2 ${sysctls.retries2}: RTO from ${RTO_MIN_MS} ms doubling up to ` +
      `${options.rtoMaxMs} ms; the abort comes at the first retransmission timer at or after it`,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the observations

const fromServer = (p: PacketEvent) => p.direction === "server_to_client";
const fromClient = (p: PacketEvent) => p.direction === "client_to_server";
const isRst = (p: PacketEvent) => p.flags.includes("RST");

/** What was observed of the peer after the fault, or undefined when nothing tells. */
function observedPeer(
  input: PredictionInput,
  after: readonly PacketEvent[],
  heldAfter: readonly SocketEvent[],
  lastHeard: number | undefined,
  wheel: TimerWheel,
): { peer: PeerBehaviour; evidence: string } | undefined {
  if (input.packets) {
    const rst = after.find((p) => fromClient(p) && isRst(p));
    if (rst) return { peer: "resets", evidence: `the peer's RST ${at(rst.at, input)}` };
    // What the server sent that the peer must answer: keepalive and window probes, and
    // retransmissions of the oldest unacknowledged segment (not a tail loss probe, nor the rest
    // of a burst, which acknowledgments sent before the fault took hold may still meet). The
    // peer answers when one of them drew a segment within ANSWER_MS (a receiver answers an
    // out-of-window probe at most every 500 ms, tcp_invalid_ratelimit: not every probe); it is
    // silent when one had that long and none did.
    const asked = askedOf(after, input.packets);
    const answered = asked.find((a) =>
      after.some((c) => fromClient(c) && !isRst(c) && c.at > a.at && c.at <= a.at + ANSWER_MS)
    );
    if (answered) {
      return { peer: "answers", evidence: `the peer answered ${at(answered.at, input)}` };
    }
    const due = asked.find((a) => a.at <= input.watchedUntil - ANSWER_MS);
    if (due) {
      return { peer: "silent", evidence: `nothing from the peer since ${at(due.at, input)}` };
    }
    return undefined;
  }
  // No capture: the socket table's counters. Unanswered probes and retransmissions count up;
  // an answer resets them, so a keepalive timer that has run past a probe with none
  // unanswered, or a window probed with none unanswered, was answered.
  const counted = heldAfter.find((e) => e.probes > 0 || e.retransmits > 0);
  if (counted) {
    return {
      peer: "silent",
      evidence: `unanswered probes or retransmissions ${at(counted.at, input)}`,
    };
  }
  const o = input.options;
  const keepaliveDue = lastHeard === undefined
    ? undefined
    : lastHeard + (o.keepIdleS + o.keepIntvlS) * 1000 + 2 * wheel.latenessMs(o.keepIdleS * 1000);
  const last = heldAfter.at(-1);
  if (
    o.keepalive && keepaliveDue !== undefined && input.watchedUntil > keepaliveDue &&
    last?.timer === "keepalive" && last.txQueue === 0
  ) {
    return { peer: "answers", evidence: "no keepalive probe left unanswered" };
  }
  const zw = heldAfter.find((e) => e.timer === "zero_window_probe");
  if (zw && last?.timer === "zero_window_probe" && input.watchedUntil - zw.at > 2000) {
    return { peer: "answers", evidence: "no zero-window probe left unanswered" };
  }
  return undefined;
}

/**
 * What the peer does, as observed (observedPeer) or, where nothing observed tells, as the fault
 * leaves it (peerExpected), and `because`: why, in words to follow the situation.
 */
function peerOf(
  input: PredictionInput,
  after: readonly PacketEvent[],
  heldAfter: readonly SocketEvent[],
  lastHeard: number | undefined,
  wheel: TimerWheel,
): { peer: PeerBehaviour | undefined; because: string } {
  const seen = observedPeer(input, after, heldAfter, lastHeard, wheel);
  const peer = seen?.peer ?? input.peerExpected;
  return { peer, because: seen ? ` (${seen.evidence})` : peer ? " (as the fault leaves it)" : "" };
}

/** The server's segments after the fault that need the peer's answer. */
function askedOf(after: readonly PacketEvent[], all: readonly PacketEvent[]): PacketEvent[] {
  return after.filter((p) => {
    if (!fromServer(p)) return false;
    if (p.kinds.includes("keepalive_probe") || p.kinds.includes("zero_window_probe")) return true;
    if (!p.kinds.includes("retransmission") || p.seq === undefined) return false;
    // The oldest unacknowledged byte: the peer's highest acknowledgment before it.
    let acked: number | undefined;
    for (const c of all) {
      if (c.at >= p.at) break;
      if (!fromClient(c) || c.ack === undefined) continue;
      if (acked === undefined || ((acked - c.ack) | 0) < 0) acked = c.ack;
    }
    return acked === p.seq;
  });
}

function peerWords(peer: PeerBehaviour | undefined): string {
  return peer === undefined ? "" : peer === "answers" ? ", peer answers probes" : `, peer ${peer}`;
}

function at(t: number, input: PredictionInput): string {
  const d = t - input.faultAt;
  return d >= 0 ? `${formatMs(d)} after the fault` : `${formatMs(-d)} before the fault`;
}

/** The situation of the connection as last seen held. */
function situationOf(last: SocketEvent): Situation {
  if (last.timer === "zero_window_probe") return "zero-window";
  if (last.timer === "retransmit" || last.txQueue > 0) return "unacked-data";
  return "idle";
}

type Release = Extract<PredictionOutcome, { kind: "release" }>;
type Draft = Omit<Release, "kind" | "at" | "toleranceMs"> & { window: AbortWindow };
/** A situation's finding: a release's draft, or an outcome without a release (never, unknown). */
type Drafted = Draft & { kind?: undefined } | Exclude<PredictionOutcome, Release>;

/**
 * Predicts what the kernel alone will do with a connection the server still holds, from what
 * was observed until `watchedUntil`. Never earlier than what was watched: a model that puts
 * the release before it does not apply, and there is no prediction.
 *
 * @example
 * ```ts ignore
 * const outcome = predictFromObservations({
 *   options, sysctls, socket: watch.events, packets, faultAt, lastTrafficAt, watchedUntil,
 *   peerExpected: "silent",
 * });
 * if (outcome.kind === "release") console.log(outcome.at - faultAt, outcome.toleranceMs);
 * ```
 */
export function predictFromObservations(input: PredictionInput): PredictionOutcome {
  const wheel = timerWheel(input.kernelHz);
  let draft: Drafted;
  try {
    draft = draftPrediction(input, wheel);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return unknown(`No kernel timer of the model ends it: ${error.message}`);
  }
  if (draft.kind !== undefined) return draft;
  const { window, kind: _, ...rest } = draft;
  const from = input.faultAt;
  const moment = predictedMoment(rest.fromAt, window, input.watchedUntil, wheel);
  if (!moment) {
    return {
      kind: "unknown",
      reason: `The model (${rest.situation}: ${rest.reason}) puts the release between ` +
        `${formatMs(rest.fromAt + window.earliestMs - from)} and ` +
        `${formatMs(rest.fromAt + window.latestMs - from)} after the fault, yet it was watched ` +
        `${formatMs(input.watchedUntil - from)} without a release: the model does not apply`,
    };
  }
  return { ...rest, kind: "release", ...moment };
}

/**
 * The moment a kernel rule ends a connection, from its window counted from `fromAt`, never
 * earlier than `watchedUntil` (the connection was still held then), with how much earlier or
 * later it may be observed on `wheel`'s kernel; undefined when the window ended before
 * `watchedUntil`: the rule does not apply. Certification's predictions and `inspect` both
 * take their moment and tolerance from here.
 *
 * @example
 * ```ts
 * import { keepaliveAbortWindow, predictedMoment } from "./predict_release.ts";
 * import { timerWheel } from "../observe/timer_wheel.ts";
 * const options = { keepalive: true, keepIdleS: 2, keepIntvlS: 1, keepCnt: 3, userTimeoutMs: 0, rtoMaxMs: 120_000 };
 * const wheel = timerWheel(250);
 * predictedMoment(0, keepaliveAbortWindow(options, [], wheel), 0, wheel); // { at: 5000, toleranceMs: { early: 10, late: 244 } }
 * ```
 */
export function predictedMoment(
  fromAt: number,
  window: AbortWindow,
  watchedUntil: number,
  wheel: TimerWheel,
): { at: number; toleranceMs: Tolerance } | undefined {
  // A release the kernel made up to OBSERVATION_LATE_MS before the end of the watch may not
  // have been seen yet: only a model whose latest moment is older than that does not apply.
  if (fromAt + window.latestMs + OBSERVATION_LATE_MS < watchedUntil) return undefined;
  const at = Math.max(fromAt + window.earliestMs, watchedUntil);
  return {
    at,
    toleranceMs: {
      early: earlyToleranceMs(wheel),
      late: Math.round(fromAt + window.latestMs - at + OBSERVATION_LATE_MS),
    },
  };
}

function unknown(reason: string): { kind: "unknown"; reason: string } {
  return { kind: "unknown", reason };
}

/** What a draft is made from: the input, the timer wheel, and what was seen up to the watch's end. */
interface Seen {
  input: PredictionInput;
  wheel: TimerWheel;
  /** The socket watch's events up to the end of the watch. */
  socket: SocketEvent[];
  /** The connection's packets up to the end of the watch. */
  packets: PacketEvent[];
  /** Its packets from the fault on. */
  after: PacketEvent[];
  /** The socket's samples from the fault on while the server held it. */
  heldAfter: SocketEvent[];
}

/**
 * What the kernel would do, before its tolerance: a connection it already ended or cannot
 * model, else the draft of the situation it was last seen held in (idle, a zero window, data
 * unacknowledged).
 */
function draftPrediction(
  input: PredictionInput,
  wheel: TimerWheel,
): Drafted {
  const { faultAt } = input;
  const socket = input.socket.filter((e) => e.at <= input.watchedUntil);
  const last = socket.at(-1);
  if (!last) return unknown("The connection was never seen in the server's socket table");
  if (last.holding === "closed_fd_held") {
    return {
      kind: "never",
      situation: "ended by the kernel, fd still held",
      because: "the kernel already ended the connection and the server still holds its fd",
      reason: "The kernel already ended the connection and the server still holds its fd: " +
        "only the server can close it",
    };
  }
  if (last.holding !== "held") {
    return unknown(`No kernel model for a connection the server holds as "${last.holding}"`);
  }
  if (last.state !== "ESTABLISHED") {
    return unknown(`No kernel model for a held connection in state "${last.state}"`);
  }
  const packets = (input.packets ?? []).filter((p) => p.at <= input.watchedUntil);
  const seen: Seen = {
    input,
    wheel,
    socket,
    packets,
    after: packets.filter((p) => p.at >= faultAt),
    heldAfter: socket.filter((e) => e.at >= faultAt && e.holding === "held"),
  };
  switch (situationOf(last)) {
    case "idle":
      return idleDraft(seen);
    case "zero-window":
      return zeroWindowDraft(seen);
    case "unacked-data":
      return unacknowledgedDraft(seen);
  }
}

/** Idle: keepalive probes, answered, reset or unanswered, or nothing when it is off. */
function idleDraft(
  { input, wheel, after, heldAfter, packets }: Seen,
): Drafted {
  const o = input.options;
  const lastClient = lastFromClient(packets);
  if (!o.keepalive) {
    return {
      kind: "never",
      situation: "idle, keepalive off",
      because: "SO_KEEPALIVE is off",
      reason: "SO_KEEPALIVE is off: nothing probes an idle connection, so the kernel alone " +
        "never ends it",
    };
  }
  // The keepalive clock counts from the last segment received from the peer.
  const probes = after.filter((p) => fromServer(p) && p.kinds.includes("keepalive_probe"));
  const heard = lastClient?.at ?? input.lastTrafficAt;
  if (heard === undefined) return unknown("No last traffic known to count keepalive from");
  const { peer, because } = peerOf(input, after, heldAfter, heard, wheel);
  if (peer === undefined) {
    return unknown(
      "Idle, and nothing was sent to the peer since the fault: whether it answers a " +
        "keepalive probe is not known",
    );
  }
  if (peer === "answers") {
    return {
      kind: "never",
      situation: `idle, peer answers keepalive probes${because}`,
      because: "a live peer's kernel answers every keepalive probe",
      reason: "A live peer's kernel (a frozen process, a silent but connected client) " +
        "answers every keepalive probe: the kernel never gives up",
    };
  }
  const idleMs = o.keepIdleS * 1000;
  if (peer === "resets") {
    return {
      from: "last-traffic",
      fromAt: heard,
      window: { earliestMs: idleMs, latestMs: idleMs + wheel.latenessMs(idleMs) },
      mechanism: "reset_by_peer",
      how: "reset-by-peer",
      sendsRst: false,
      situation: `idle, peer resets${because}`,
      reason: `the first keepalive probe, ${o.keepIdleS} s after the last segment from the ` +
        "peer, draws its RST",
    };
  }
  const probesSeen = probes.filter((p) => p.at > heard).map((p) => p.at - heard);
  if (o.userTimeoutMs === 0 && probesSeen.length > o.keepCnt) {
    return unknown(
      `${probesSeen.length} keepalive probes went unanswered, more than TCP_KEEPCNT ` +
        `${o.keepCnt}: the keepalive model does not apply`,
    );
  }
  return {
    from: "last-traffic",
    fromAt: heard,
    window: keepaliveAbortWindow(o, probesSeen, wheel),
    mechanism: "keepalive",
    how: "keepalive-timeout",
    sendsRst: true,
    situation: `idle, peer silent${because}`,
    reason: o.userTimeoutMs === 0
      ? `idle ${o.keepIdleS} s + ${o.keepCnt} probes × ${o.keepIntvlS} s after ` +
        "the last segment from the peer, then RST"
      : `TCP_USER_TIMEOUT ${o.userTimeoutMs} ms: the first keepalive timer ` +
        `firing (idle ${o.keepIdleS} s, every ${o.keepIntvlS} s) after a probe with the ` +
        "peer silent that long, then RST; TCP_KEEPCNT ignored",
  };
}

/** A zero window: TCP_USER_TIMEOUT, or window probes answered or counted against tcp_retries2. */
function zeroWindowDraft(
  { input, wheel, socket, packets, after, heldAfter }: Seen,
): Drafted {
  const o = input.options;
  // The kernel's clock (icsk_probes_tstamp) starts at the first probe of a closed window and
  // restarts only when the window opens.
  const opened = packets.filter((p) => fromClient(p) && (p.window ?? 0) > 0).at(-1)?.at ??
    -Infinity;
  const probe = packets.find((p) =>
    fromServer(p) && p.kinds.includes("zero_window_probe") && p.at > opened
  );
  // Without a capture: the first probe is due when the probe timer of this episode (the
  // events since the timer last was something else) was first seen to expire.
  const other = socket.findLastIndex((e) => e.timer !== "zero_window_probe");
  const timerSet = socket[other + 1];
  const first = probe?.at ?? (timerSet ? timerSet.at + timerSet.timerMs : undefined);
  const { peer, because } = peerOf(input, after, heldAfter, undefined, wheel);
  if (o.userTimeoutMs > 0) {
    if (first === undefined) return unknown("Zero window, but no window probe seen yet");
    return {
      from: "first-zero-window-probe",
      fromAt: first,
      window: userTimeoutAbortWindow(o.userTimeoutMs, o.rtoMaxMs, wheel),
      mechanism: "user_timeout",
      how: "zero-window-timeout",
      sendsRst: false,
      situation: `zero window${peerWords(peer)}${because}`,
      reason: `TCP_USER_TIMEOUT ${o.userTimeoutMs} ms after the first window probe ` +
        "(tcp_probe_timer), answered or not",
    };
  }
  if (peer === "answers") {
    return {
      kind: "never",
      situation: `zero window, peer answers probes${because}`,
      because: "no TCP_USER_TIMEOUT",
      reason: "No TCP_USER_TIMEOUT: the kernel keeps probing a closed window as long as the " +
        "peer answers (RFC 1122 §4.2.2.17)",
    };
  }
  // Unanswered window probes count against tcp_retries2 (tcp_probe_timer): the kernel gives
  // up at the probe timer firing after that many, the interval doubling from the RTO.
  const probes = packets.filter((p) =>
    fromServer(p) && p.kinds.includes("zero_window_probe") && p.at > opened
  );
  if (peer !== "silent" || probes.length < 3) {
    return unknown(
      "Zero window without TCP_USER_TIMEOUT: unanswered window probes count against " +
        "tcp_retries2, which applies once three of them are seen unanswered in the capture",
    );
  }
  const rtos = rtoCandidates(probes, undefined, probes[0]!.at, packets, o.rtoMaxMs, wheel);
  if (!rtos) {
    return unknown("Zero window: the window probes do not back off as the model has them");
  }
  const seenAt = probes.map((p) => p.at - probes[0]!.at);
  const retries2 = input.sysctls.retries2;
  const last = seenAt.length - 1;
  if (last >= retries2) {
    return unknown(`${probes.length} window probes went unanswered, more than tcp_retries2`);
  }
  const chain = (rtoMs: number) =>
    abortWindow(seenAt[last]!, 0, (k) => Math.min(rtoMs * 2 ** (last + k), o.rtoMaxMs), {
      firing: retries2 - last,
    }, wheel);
  return {
    from: "first-zero-window-probe",
    fromAt: probes[0]!.at,
    window: widest(rtos.map(chain)),
    mechanism: "zero_window_probes",
    how: "zero-window-timeout",
    sendsRst: false,
    situation: `zero window, peer silent${because}`,
    reason: `tcp_retries2 ${retries2} unanswered window probes, the interval doubling from ` +
      `${rtoWords(rtos)} ms up to ` +
      `${formatMs(o.rtoMaxMs)}; the kernel gives up at the probe timer after the last`,
  };
}

/**
 * Data unacknowledged: the peer resets, or TCP_USER_TIMEOUT or tcp_retries2 from the first
 * retransmission.
 */
function unacknowledgedDraft(
  { input, wheel, packets, after, heldAfter }: Seen,
): Drafted {
  const o = input.options;
  // Unacknowledged data: the clock starts at the first retransmission by the retransmission
  // timer, which counts in icsk_retransmits (the table's retransmits); a tail loss probe does not.
  const counted = heldAfter.find((e) => e.retransmits > 0);
  const retransmissions = after.filter((p) => fromServer(p) && p.kinds.includes("retransmission"));
  let first: PacketEvent | undefined;
  if (counted) {
    first = retransmissions.filter((p) => p.at <= counted.at + 5).at(-1);
  } else if (!input.packets) first = undefined;
  else first = retransmissions[0];
  const chain = first
    ? retransmissions.filter((p) => p.seq === first!.seq && p.at >= first!.at)
    : [];
  // Before the first retransmission its moment is not known: the timer armed may be a tail
  // loss probe's, and the RTO follows the path's round trips.
  const start = first?.at ?? counted?.at;
  const { peer, because } = peerOf(input, after, heldAfter, undefined, wheel);
  if (start === undefined) {
    return unknown(
      "Data unacknowledged, but no retransmission yet: the kernel's clock starts at the first",
    );
  }
  if (peer === "answers") {
    return unknown("Data unacknowledged while the peer still answers: no kernel timer runs out");
  }
  if (peer === "resets") {
    return {
      from: "first-retransmission",
      fromAt: start,
      window: { earliestMs: 0, latestMs: wheel.latenessMs(RTO_MIN_MS) },
      mechanism: "reset_by_peer",
      how: "reset-by-peer",
      sendsRst: false,
      situation: `data unacknowledged, peer resets${because}`,
      reason: "the next retransmission draws the peer's RST",
    };
  }
  if (peer === undefined) {
    return unknown("Data unacknowledged and the peer not seen since the fault");
  }
  if (o.userTimeoutMs > 0) {
    return {
      from: "first-retransmission",
      fromAt: start,
      window: userTimeoutAbortWindow(o.userTimeoutMs, o.rtoMaxMs, wheel),
      mechanism: "user_timeout",
      how: "retransmission-timeout",
      sendsRst: false,
      situation: `data unacknowledged, peer silent${because}`,
      reason: `TCP_USER_TIMEOUT ${o.userTimeoutMs} ms after the first retransmission of the ` +
        "oldest unacknowledged segment (it replaces tcp_retries2)",
    };
  }
  const times = chain.length ? chain.map((p) => p.at - start) : [0];
  // The model holds only for retransmissions seen to back off: two gaps, the second double the
  // first (ICMP errors, RFC 6069, undo backoff steps; they are not in the capture).
  if (chain.length < 3) {
    return unknown(
      `Data unacknowledged, ${chain.length} retransmission(s) so far: the tcp_retries2 model ` +
        "applies once they are seen to back off (three of them)",
    );
  }
  const rtos = rtoCandidates(chain, counted, start, packets, o.rtoMaxMs, wheel);
  if (!rtos) {
    return unknown(
      "Data unacknowledged, but the retransmissions do not back off as the tcp_retries2 model " +
        "has them (an ICMP error undoes a backoff step): no exact model",
    );
  }
  const windows = rtos.map((rto) =>
    retries2AbortWindow(input.sysctls.retries2, rto, o.rtoMaxMs, times, wheel)
  );
  return {
    from: "first-retransmission",
    fromAt: start,
    window: widest(windows),
    mechanism: "retransmission_timeout",
    how: "retransmission-timeout",
    sendsRst: false,
    situation: `data unacknowledged, peer silent${because}`,
    reason: `tcp_retries2 ${input.sysctls.retries2}: the first retransmission timer at or ` +
      `after ${formatMs(retransmissionModelMs(input.sysctls.retries2, o.rtoMaxMs))} ` +
      `(tcp_model_timeout) from the first retransmission; RTO ${rtoWords(rtos)} ms doubling ` +
      `up to ${formatMs(o.rtoMaxMs)}`,
  };
}

/** The earliest and the latest of several windows: one per RTO the observations allow. */
function widest(windows: readonly AbortWindow[]): AbortWindow {
  return {
    earliestMs: Math.min(...windows.map((w) => w.earliestMs)),
    latestMs: Math.max(...windows.map((w) => w.latestMs)),
  };
}

/** The RTOs in words: "204" or "204 to 208" (ms, to 0.01 ms: a tick at HZ=300 is 3.33 ms). */
function rtoWords(rtos: readonly number[]): string {
  const [lo, hi] = [rtos[0]!, rtos.at(-1)!].map((v) => Math.round(v * 100) / 100);
  return lo === hi ? `${lo}` : `${lo} to ${hi}`;
}

/**
 * Every RTO (on whole ticks, ascending) that may have fired the first retransmission, as
 * rtoRange bounds it on each wheel `wheel` stands for: its own when HZ is known; when it is
 * not, those of every HZ Linux allows whose wheel the gaps fit. Undefined: no RTO fits. The
 * abort window is then the widest over all of them: a window is not monotonic in the RTO (a
 * slightly longer one may reach the model's floor a firing earlier or later).
 */
function rtoCandidates(
  chain: readonly PacketEvent[],
  counted: SocketEvent | undefined,
  start: number,
  packets: readonly PacketEvent[],
  rtoMaxMs: number,
  wheel: TimerWheel,
): number[] | undefined {
  const all = new Set<number>();
  for (const one of wheel.candidates) {
    const range = rtoRange(chain, counted, start, packets, rtoMaxMs, one);
    if (!range) continue;
    const tick = one.tickMs;
    for (let k = Math.round(range.lo / tick); k <= Math.round(range.hi / tick); k++) {
      all.add(k * tick);
    }
  }
  return all.size ? [...all].sort((a, b) => a - b) : undefined;
}

/**
 * The RTO that fired the first retransmission (icsk_rto before backoff), as a range, on the
 * wheel of one HZ. Each later retransmission fires `rto << backoff` after the one before, late
 * by the timer wheel and never early: every gap bounds it from above, and from below once the
 * most its timer could be late is taken off; the range is the tightest of them, on whole ticks.
 * Without two retransmissions, the socket table's next expiry after the first (to its 10 ms
 * resolution), or the gap from the segment's first transmission.
 */
function rtoRange(
  chain: readonly PacketEvent[],
  counted: SocketEvent | undefined,
  start: number,
  packets: readonly PacketEvent[],
  rtoMaxMs: number,
  wheel: TimerWheel,
): { lo: number; hi: number } | undefined {
  const tick = wheel.tickMs;
  let lo = RTO_MIN_MS, hi = Infinity;
  for (let i = 1; i < chain.length; i++) {
    const gap = chain[i]!.at - chain[i - 1]!.at;
    if (gap >= rtoMaxMs * 0.9) continue; // capped at the ceiling: says nothing of the base
    hi = Math.min(hi, (gap + tick) / 2 ** i);
    lo = Math.max(lo, (gap - wheel.latenessMs(gap) - tick) / 2 ** i);
  }
  if (hi === Infinity) {
    let rto = RTO_MIN_MS;
    if (counted && counted.timer === "retransmit" && counted.timerMs > 0) {
      rto = (counted.at + counted.timerMs - start) / 2;
    } else {
      const one = chain[0];
      const original = one &&
        packets.find((p) => fromServer(p) && p.seq === one.seq && p.at < one.at);
      if (original && one) rto = one.at - original.at;
    }
    [lo, hi] = [Math.max(RTO_MIN_MS, rto - 10), Math.max(RTO_MIN_MS, rto + 10)];
  }
  const floor = Math.floor(hi / tick) * tick, ceil = Math.ceil(lo / tick) * tick;
  // Gaps that do not double (an ICMP error undoes a backoff step, RFC 6069) fit no RTO.
  if (floor < RTO_MIN_MS || ceil > floor + tick) return undefined;
  return { lo: Math.min(ceil, floor), hi: floor };
}
