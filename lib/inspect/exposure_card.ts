/**
 * The exposure card: from the sockets read, when the kernel alone would release a client that
 * vanishes idle, vanishes mid-response or stops reading (per distinct set of options), and which
 * of the connections look dead now, with the evidence. Pure: every figure comes from the
 * certification's kernel model (lib/evaluate/predict_release.ts: predictRelease for the
 * mechanism, its abort windows and predictedMoment for the moment and tolerance).
 *
 * @module
 */

import {
  keepaliveAbortWindow,
  predictedMoment,
  predictRelease,
  retries2AbortWindow,
  type Situation,
  type SocketOptions,
  type TcpSysctls,
  type TimerWheel,
  userTimeoutAbortWindow,
} from "../evaluate/predict_release.ts";
import { formatMs } from "../time/duration.ts";
import type {
  DeadConnection,
  DeadGroup,
  Exposure,
  InspectedSocket,
  OptionGroup,
  Release,
} from "./inspection_schema.ts";

/** TCP_RTO_MIN: the retransmission timeout of a connection with a short round trip. */
const RTO_MIN_MS = 200;

const SITUATIONS = {
  "vanish-idle": "idle",
  "vanish-mid-response": "unacked-data",
  "stops-reading": "zero-window",
} as const satisfies Record<Exposure["case"], Situation>;

const FROM = {
  idle: "last-traffic",
  "unacked-data": "first-retransmission",
  "zero-window": "first-zero-window-probe",
} as const satisfies Record<Situation, Release["from"]>;

/**
 * The three exposures of a socket with `options`: when the kernel alone releases a client that
 * vanishes idle, vanishes mid-response (retransmissions from `rtoMs`), or stops reading.
 *
 * @example
 * ```ts
 * import { exposures } from "./exposure_card.ts";
 * import { timerWheel } from "../observe/timer_wheel.ts";
 * const options = { keepalive: true, keepIdleS: 60, keepIntvlS: 10, keepCnt: 5, userTimeoutMs: 0, rtoMaxMs: 120_000 };
 * const sysctls = { keepaliveTimeS: 7200, keepaliveIntvlS: 75, keepaliveProbes: 9, retries2: 15, orphanRetries: 0 };
 * exposures(options, sysctls, 200, timerWheel(250))[0]?.release?.afterMs; // 110_000
 * ```
 */
export function exposures(
  options: SocketOptions,
  sysctls: TcpSysctls,
  rtoMs: number,
  wheel: TimerWheel,
): Exposure[] {
  return (Object.keys(SITUATIONS) as Exposure["case"][]).map((which) => {
    const situation = SITUATIONS[which];
    const model = predictRelease(options, sysctls, situation);
    const window = model.afterMs === "never"
      ? undefined
      : situation === "idle"
      ? keepaliveAbortWindow(options, [], wheel)
      : options.userTimeoutMs > 0
      ? userTimeoutAbortWindow(options.userTimeoutMs, options.rtoMaxMs, wheel)
      : retries2AbortWindow(sysctls.retries2, rtoMs, options.rtoMaxMs, [0], wheel);
    const moment = window && predictedMoment(0, window, 0, wheel);
    return {
      case: which,
      release: moment
        ? { afterMs: moment.at, from: FROM[situation], toleranceMs: moment.toleranceMs }
        : null,
      mechanism: model.mechanism,
      decidedBy: decidedBy(options, sysctls, situation, rtoMs),
      reason: model.reason,
    };
  });
}

function decidedBy(o: SocketOptions, s: TcpSysctls, situation: Situation, rtoMs: number): string {
  const dflt = (value: number, sysctl: number) => value === sysctl ? " (default)" : "";
  const keepalive = `TCP_KEEPIDLE ${o.keepIdleS} s${dflt(o.keepIdleS, s.keepaliveTimeS)}, ` +
    `TCP_KEEPINTVL ${o.keepIntvlS} s${dflt(o.keepIntvlS, s.keepaliveIntvlS)}`;
  if (situation === "idle") {
    if (!o.keepalive) return "SO_KEEPALIVE off";
    if (o.userTimeoutMs > 0) return `TCP_USER_TIMEOUT ${o.userTimeoutMs} ms, ${keepalive}`;
    return `${keepalive}, TCP_KEEPCNT ${o.keepCnt}${dflt(o.keepCnt, s.keepaliveProbes)}`;
  }
  if (o.userTimeoutMs > 0) return `TCP_USER_TIMEOUT ${o.userTimeoutMs} ms`;
  if (situation === "zero-window") return "no TCP_USER_TIMEOUT";
  return `tcp_retries2 ${s.retries2} (sysctl), RTO from ${Math.round(rtoMs)} ms`;
}

/** Options as a key: sockets with the same key have the same exposures. */
function optionsKey(o: SocketOptions): string {
  return JSON.stringify([o.keepalive, o.keepIdleS, o.keepIntvlS, o.keepCnt, o.userTimeoutMs]) +
    `/${o.rtoMaxMs}`;
}

/** The RTO a connection's retransmissions would start from (tcpi_rto before any backoff). */
function baseRtoMs(socket: InspectedSocket): number {
  const info = socket.tcpInfo;
  return Math.max(RTO_MIN_MS, info.rtoMs / 2 ** info.backoff);
}

/**
 * The connected sockets grouped by where they come from (accepted on one of the listeners'
 * ports, or opened by the server: outbound) and by options, largest group first, each with its
 * exposures; the listener's options alone when no connection is held. The mid-response
 * exposure starts from the group's smallest RTO (the fastest the kernel gives up).
 */
export function optionGroups(
  listeners: readonly InspectedSocket[],
  connections: readonly InspectedSocket[],
  sysctls: TcpSysctls,
  wheel: TimerWheel,
): OptionGroup[] {
  const ports = new Set(listeners.map((l) => l.local.port));
  const live = connections.filter((c) => c.state === "ESTABLISHED" || c.state === "CLOSE_WAIT");
  const groups = new Map<string, Omit<OptionGroup, "count" | "exposures"> & { rtos: number[] }>();
  for (const socket of live) {
    const options = socket.settings.timeouts;
    const source = ports.has(socket.local.port) ? "accepted" : "outbound";
    const key = `${source} ${optionsKey(options)}`;
    const group = groups.get(key) ?? { source, options, rtos: [] };
    group.rtos.push(baseRtoMs(socket));
    groups.set(key, group);
  }
  if (!groups.size) {
    return listeners.slice(0, 1).map((l) => ({
      source: "listener" as const,
      count: 0,
      options: l.settings.timeouts,
      exposures: exposures(l.settings.timeouts, sysctls, RTO_MIN_MS, wheel),
    }));
  }
  const order = (g: { source: string; rtos: number[] }) =>
    (g.source === "accepted" ? 0 : 1e9) - g.rtos.length;
  return [...groups.values()].sort((a, b) => order(a) - order(b)).map(({ rtos, ...g }) => ({
    ...g,
    count: rtos.length,
    exposures: exposures(g.options, sysctls, Math.min(...rtos), wheel),
  }));
}

/** Whether accepted sockets' options differ from the listener's (set after accept). */
export function differFromListener(
  listeners: readonly InspectedSocket[],
  groups: readonly OptionGroup[],
): boolean {
  const listener = listeners[0]?.settings.timeouts;
  if (!listener) return false;
  return groups.some((g) =>
    g.source === "accepted" && optionsKey(g.options) !== optionsKey(listener)
  );
}

const MEANING: Record<DeadGroup["kind"], string> = {
  "retransmitting": "data unacknowledged and retransmitted: the peer is likely gone",
  "zero-window": "the peer's window is closed: it stopped reading; without TCP_USER_TIMEOUT " +
    "the kernel never releases a peer that answers window probes",
  "keepalive-probing": "keepalive probes unanswered: the peer is likely gone",
  "half-open-candidate": "idle longer than its own keepalive settings would allow, with " +
    "keepalive off: half-open or merely quiet, unknown",
  "close-wait": "the peer closed (FIN) and the server has not: a leak in the making",
};

/**
 * The connections that look dead now, grouped by kind (in the order of MEANING), each with
 * the evidence of TCP_INFO and the socket table and, where the model applies, when the kernel
 * releases it (ms after the inspection).
 */
export function deadLooking(
  connections: readonly InspectedSocket[],
  sysctls: TcpSysctls,
  wheel: TimerWheel,
): DeadGroup[] {
  const groups = new Map<DeadGroup["kind"], DeadConnection[]>();
  for (const socket of connections) {
    const found = diagnose(socket, sysctls, wheel);
    if (!found) continue;
    const [kind, connection] = found;
    groups.set(kind, [...groups.get(kind) ?? [], connection]);
  }
  return (Object.keys(MEANING) as DeadGroup["kind"][]).flatMap((kind) => {
    const list = groups.get(kind);
    return list ? [{ kind, count: list.length, meaning: MEANING[kind], connections: list }] : [];
  });
}

function diagnose(
  socket: InspectedSocket,
  sysctls: TcpSysctls,
  wheel: TimerWheel,
): [DeadGroup["kind"], DeadConnection] | undefined {
  const info = socket.tcpInfo, o = socket.settings.timeouts;
  const silentMs = Math.min(info.lastDataRecvMs, info.lastAckRecvMs);
  const base = {
    pid: socket.pid,
    fd: socket.fd,
    local: socket.local,
    remote: socket.remote,
    silentMs,
  };
  if (socket.state === "CLOSE_WAIT") {
    return ["close-wait", {
      ...base,
      evidence: `CLOSE_WAIT: the peer's FIN arrived, the server holds fd ${socket.fd} ` +
        `(last segment from the peer ${formatMs(silentMs)} ago)`,
      mechanism: "none",
    }];
  }
  if (socket.state !== "ESTABLISHED") return undefined;
  if (info.retransmits > 0 && (info.unacked > 0 || socket.txQueue > 0)) {
    return ["retransmitting", retransmitting(socket, base, sysctls, wheel)];
  }
  const zeroWindow = socket.timer === "zero_window_probe" ||
    (info.sndWnd === 0 && ((info.notsentBytes ?? 0) > 0 || socket.txQueue > 0));
  if (zeroWindow) {
    const closedMs = info.lastDataSentMs;
    const probes = info.probes > 0
      ? `${info.probes} window probe(s) unanswered`
      : "its kernel answers the window probes";
    if (o.userTimeoutMs > 0) {
      // The kernel counts from the first window probe, at most one RTO after the last data.
      const window = userTimeoutAbortWindow(o.userTimeoutMs, o.rtoMaxMs, wheel);
      const moment = predictedMoment(-closedMs, window, 0, wheel);
      return ["zero-window", {
        ...base,
        evidence: `window closed for about ${formatMs(closedMs)}, ${probes}`,
        ...(moment
          ? {
            releaseInMs: moment.at,
            toleranceMs: {
              early: moment.toleranceMs.early,
              late: moment.toleranceMs.late + Math.round(info.rtoMs),
            },
          }
          : {}),
        mechanism: "user_timeout",
      }];
    }
    return ["zero-window", {
      ...base,
      evidence: `window closed for about ${formatMs(closedMs)}, ${probes}`,
      mechanism: info.probes > 0 ? "zero_window_probes" : "none",
    }];
  }
  if (info.unacked > 0 || socket.txQueue > 0) return undefined;
  if (o.keepalive && info.probes > 0) {
    const probesSeen = Array.from(
      { length: info.probes },
      (_, k) => (o.keepIdleS + k * o.keepIntvlS) * 1000,
    );
    const window = keepaliveAbortWindow(o, probesSeen, wheel);
    const moment = predictedMoment(-silentMs, window, 0, wheel);
    return ["keepalive-probing", {
      ...base,
      evidence: `${info.probes} keepalive probe(s) unanswered, nothing heard for ` +
        formatMs(silentMs),
      ...(moment ? { releaseInMs: moment.at, toleranceMs: moment.toleranceMs } : {}),
      mechanism: "keepalive",
    }];
  }
  const keepaliveWouldMs = (o.keepIdleS + o.keepCnt * o.keepIntvlS) * 1000;
  if (!o.keepalive && silentMs > keepaliveWouldMs) {
    return ["half-open-candidate", {
      ...base,
      evidence: `idle for ${formatMs(silentMs)}, keepalive off (its settings would have ` +
        `released a dead peer after ${formatMs(keepaliveWouldMs)})`,
      mechanism: "none",
    }];
  }
  return undefined;
}

/**
 * A retransmitting connection: backoff and silence from TCP_INFO, and the release by the
 * tcp_retries2 model (or TCP_USER_TIMEOUT) counted from the first retransmission. Linux 6.7+
 * gives its moment exactly (tcpi_total_rto_time of the only episode); otherwise it is
 * reconstructed from the backoff at nominal timer gaps, and the early tolerance grows by the
 * lateness those timers may have had.
 */
function retransmitting(
  socket: InspectedSocket,
  base: Omit<DeadConnection, "evidence" | "mechanism">,
  sysctls: TcpSysctls,
  wheel: TimerWheel,
): DeadConnection {
  const info = socket.tcpInfo, o = socket.settings.timeouts;
  const rto = baseRtoMs(socket);
  const n = Math.max(1, info.retransmits);
  const seen = [0];
  let lateness = 0;
  for (let k = 1; k < n; k++) {
    const gap = Math.min(rto * 2 ** k, o.rtoMaxMs);
    seen.push(seen[k - 1]! + gap);
    lateness += wheel.latenessMs(gap);
  }
  const exact = info.totalRtoRecoveries === 1 && info.totalRtoTimeMs !== undefined;
  const sinceFirst = exact ? info.totalRtoTimeMs! : seen.at(-1)! + info.lastDataSentMs;
  if (exact && n > 1) seen[n - 1] = Math.max(seen[n - 2]!, sinceFirst - info.lastDataSentMs);
  const window = o.userTimeoutMs > 0
    ? userTimeoutAbortWindow(o.userTimeoutMs, o.rtoMaxMs, wheel)
    : retries2AbortWindow(sysctls.retries2, rto, o.rtoMaxMs, seen, wheel);
  const moment = predictedMoment(-sinceFirst, window, 0, wheel);
  return {
    ...base,
    evidence: `backoff ${info.backoff}, ${info.retransmits} retransmission(s) unanswered, ` +
      `the first ${formatMs(sinceFirst)} ago${exact ? "" : " (reconstructed)"}, nothing heard ` +
      `for ${formatMs(base.silentMs)}`,
    ...(moment
      ? {
        releaseInMs: moment.at,
        toleranceMs: {
          early: moment.toleranceMs.early + (exact ? 0 : Math.round(lateness)),
          late: moment.toleranceMs.late,
        },
      }
      : {}),
    mechanism: o.userTimeoutMs > 0 ? "user_timeout" : "retransmission_timeout",
  };
}
