/**
 * When the kernel alone gives up on a silent peer, from a socket's options and its
 * namespace's sysctls: the rules of net/ipv4/tcp_timer.c (tcp_keepalive_timer,
 * tcp_write_timeout, tcp_probe_timer). Always a prediction, labelled as one.
 *
 * @module
 */

import type { SocketOptions, TcpSysctls } from "./socket_options.ts";

/** What the connection is doing when its peer goes silent. */
export type Situation = "idle" | "unacked-data" | "zero-window";

/** The kernel mechanism that ends the connection. */
export type ReleaseMechanism = "keepalive" | "user_timeout" | "retransmission_timeout" | "none";

/** The kernel's own deadline for a connection whose peer went silent. */
export interface ReleasePrediction {
  predicted: true;
  situation: Situation;
  /**
   * Milliseconds from the reference point of the situation to the abort, or "never": for
   * `idle` the last segment received, for `unacked-data` the first transmission of the oldest
   * unacknowledged segment, for `zero-window` the first zero-window probe.
   */
  afterMs: number | "never";
  mechanism: ReleaseMechanism;
  /** Whether the kernel sends RST as it gives up (only the keepalive path does). */
  sendsRst: boolean;
  /** How the figure follows from the options, in one sentence. */
  reason: string;
}

/** TCP_RTO_MIN (HZ / 5): the base of the kernel's retransmission model, not tunable. */
const RTO_MIN_MS = 200;

/**
 * The retransmission model of tcp_model_timeout(): the time `retries2` retransmissions take
 * when the RTO starts at TCP_RTO_MIN and doubles up to `rtoMaxMs`.
 */
export function retransmissionModelMs(retries2: number, rtoMaxMs: number): number {
  let total = 0;
  for (let i = 0, rto = RTO_MIN_MS; i <= retries2; i++, rto *= 2) total += Math.min(rto, rtoMaxMs);
  return total;
}

/**
 * Predicts when the kernel alone declares the peer dead in `situation`.
 *
 * @example
 * ```ts ignore
 * const options = readSocketOptions(server.pid, fd);
 * const sysctls = await readTcpSysctls(lab.hosts.server);
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
