/**
 * Evaluation: observations in, a scenario result out. Reads nothing else, so it is the same
 * on every machine. The rules are written down in suites/INTERPRETING.md.
 *
 * @module
 */

import {
  predictRelease,
  type ReleasePrediction,
  type Situation,
} from "../observe/predict_release.ts";
import type {
  ExpectationResult,
  Measurements,
  Prediction,
  ScenarioResult,
  Verdict,
} from "../results/schema.ts";
import type { Level, Scenario } from "../suite/define_suite.ts";
import { formatMs, parseDuration } from "../time/duration.ts";
import type { Expectation } from "../suite/expectations.ts";
import type { Observations } from "./observations.ts";
import { recommend } from "./recommend.ts";
import { packetsOf, releaseHow } from "./release_how.ts";
import { buildTimeline } from "./timeline.ts";

/**
 * RSS may grow this much and still count as back to baseline: allocators and JIT heaps keep
 * freed pages. fds are exact; RSS only catches leaks far beyond what a runtime keeps.
 */
const RSS_TOLERANCE = { factor: 1.5, kib: 16_384 };

const BROKEN: Record<Level, Verdict> = { MUST: "fail", SHOULD: "warn", MAY: "info" };
const SEVERITY: readonly Verdict[] = [
  "error",
  "fail",
  "warn",
  "inconclusive",
  "info",
  "pass",
  "skip",
];

/** The worst verdict of a list: error over fail over warn ...; all skipped is skip. */
export function worst(verdicts: readonly Verdict[]): Verdict {
  for (const v of SEVERITY) if (verdicts.includes(v)) return v;
  return "skip";
}

function describe(e: Expectation): string {
  switch (e.kind) {
    case "released":
      return `released within ${formatMs(parseDuration(e.within))}`;
    case "survives":
      return e.for
        ? `connection survives ${formatMs(parseDuration(e.for))}`
        : "connection survives";
    case "server-alive":
      return "server keeps running";
    case "others-served":
      return `other clients served within ${formatMs(parseDuration(e.within))}`;
    case "response-delivered":
      return "response delivered";
    case "resources-restored":
      return "fds and memory back to baseline";
  }
}

/** What the server socket was doing when last seen held: the kernel situation to predict. */
function situation(obs: Observations): Situation {
  const last = obs.socket.filter((e) => e.holding === "held").at(-1);
  if (last?.timer === "zero_window_probe") return "zero-window";
  if (last?.timer === "retransmit" || (last?.txQueue ?? 0) > 0) return "unacked-data";
  return "idle";
}

function prediction(obs: Observations): ReleasePrediction | undefined {
  if (!obs.socketOptions || !obs.sysctls) return undefined;
  return predictRelease(obs.socketOptions, obs.sysctls, situation(obs));
}

function toSchema(p: ReleasePrediction): Prediction {
  const from = p.situation === "idle"
    ? "last-traffic"
    : p.situation === "unacked-data"
    ? "oldest-unacked"
    : "first-zero-window-probe";
  return {
    predicted: true,
    releaseMs: p.afterMs === "never" ? null : p.afterMs,
    from,
    mechanism: `${p.mechanism.replaceAll("_", " ")}: ${p.reason}`,
  };
}

/**
 * Whether an idle connection outlives a NAT's timeout, when the deadline is shorter than the
 * wait: a keepalive probe more often than the timeout refreshes the mapping (a prediction).
 */
function survivalPredicted(
  obs: Observations,
  spanMs: number,
  ok: (m: string) => Omit<ExpectationResult, "expectation">,
  broken: (m: string) => Omit<ExpectationResult, "expectation">,
): Omit<ExpectationResult, "expectation"> {
  const o = obs.socketOptions;
  if (obs.natTimeoutMs === undefined || !o) {
    return {
      verdict: "inconclusive",
      measured: `the deadline ended before the ${formatMs(spanMs)} to wait`,
    };
  }
  const nat = formatMs(obs.natTimeoutMs);
  if (o.keepalive && o.keepIdleS * 1000 < obs.natTimeoutMs) {
    return {
      ...ok(`keepalive after ${o.keepIdleS} s idle refreshes the ${nat} mapping`),
      predicted: true,
    };
  }
  const why = o.keepalive ? `keepalive starts after ${o.keepIdleS} s idle` : "keepalive is off";
  return { ...broken(`the ${nat} mapping expires: ${why}`), predicted: true };
}

function judge(
  level: Level,
  e: Expectation,
  obs: Observations,
  m: Measurements,
): Omit<ExpectationResult, "expectation"> {
  const ok = (measured: string) => ({
    verdict: level === "MAY" ? "info" as const : "pass" as const,
    measured,
  });
  const broken = (measured: string) => ({ verdict: BROKEN[level], measured });
  switch (e.kind) {
    case "released": {
      const budget = parseDuration(e.within);
      if (m.releaseMs !== undefined) {
        const text = `after ${formatMs(m.releaseMs)}`;
        return m.releaseMs <= budget ? ok(text) : broken(text);
      }
      if (obs.waitedMs >= budget) return broken(`not released within ${formatMs(budget)}`);
      // The deadline ended first: only the kernel's own timers can tell the rest.
      const p = prediction(obs);
      if (p && p.afterMs !== "never") {
        const since = situation(obs) === "idle"
          ? obs.lastTrafficAt ?? obs.faultAt ?? 0
          : obs.faultAt ?? 0;
        const at = since + p.afterMs - (obs.faultAt ?? since);
        const text = `kernel releases it ${formatMs(Math.max(0, at))} after the fault`;
        return { ...(at <= budget ? ok(text) : broken(text)), predicted: true };
      }
      return {
        verdict: "inconclusive",
        measured: `not released within the ${formatMs(obs.waitedMs)} waited; ${
          p ? "the kernel alone never releases it" : "no socket options to predict from"
        }`,
      };
    }
    case "survives": {
      const span = e.for === undefined ? 0 : parseDuration(e.for);
      if (span > obs.waitedMs + 1000) return survivalPredicted(obs, span, ok, broken);
      return obs.survived?.ok
        ? ok(
          obs.survived.byState
            ? "both ends still hold it ESTABLISHED"
            : "an exchange after the outage succeeded",
        )
        : broken(`connection lost: ${obs.survived?.error ?? "not checked"}`);
    }
    case "server-alive":
      return obs.serverExit
        ? broken(
          `server ${
            obs.serverExit.signal
              ? `killed by ${obs.serverExit.signal}`
              : `exited with ${obs.serverExit.code}`
          }`,
        )
        : ok("still running");
    case "others-served": {
      const within = parseDuration(e.within);
      if (!obs.liveness?.length) {
        return { verdict: "inconclusive", measured: "no exchanges of the other client recorded" };
      }
      const text = `max ${formatMs(m.othersMaxLatencyMs ?? 0)}, ${
        m.othersTimeouts ?? 0
      } of ${obs.liveness.length} unanswered`;
      return (m.othersTimeouts ?? 0) === 0 && (m.othersMaxLatencyMs ?? 0) <= within
        ? ok(text)
        : broken(text);
    }
    case "response-delivered":
      return obs.response?.found
        ? ok(`${obs.response.bytes} bytes`)
        : broken(`not delivered: ${obs.response?.error ?? "incomplete"}`);
    case "resources-restored": {
      const b = obs.processBefore, a = obs.processAfter;
      if (!b || !a) return broken("server process gone");
      const text = `fds ${b.fds} → ${a.fds}, RSS ${b.rssKiB} → ${a.rssKiB} KiB`;
      const rssOk = a.rssKiB <= b.rssKiB * RSS_TOLERANCE.factor + RSS_TOLERANCE.kib;
      return a.fds <= b.fds && rssOk ? ok(text) : broken(text);
    }
  }
}

function measure(obs: Observations, clientPort: number | undefined): Measurements {
  const m: Measurements = { harness: obs.harness };
  const fault = obs.faultAt;
  if (obs.releasedAt !== undefined && fault !== undefined && obs.releasedAt >= fault) {
    m.releaseMs = Math.round(obs.releasedAt - fault);
    if (obs.lastTrafficAt !== undefined) {
      m.releaseSinceLastTrafficMs = Math.round(obs.releasedAt - obs.lastTrafficAt);
    }
    m.releasedHow = releaseHow(
      obs.releasedAt,
      fault,
      obs.socket,
      packetsOf(obs.packets ?? [], clientPort),
    );
  } else if (obs.socket.length && fault !== undefined && !obs.serverExit) {
    m.releasedHow = "never";
  }
  const during = (obs.liveness ?? []).filter((l) =>
    (fault === undefined || l.endedAt >= fault) && l.endedAt <= obs.endAt
  );
  if (during.length) {
    m.othersMaxLatencyMs = Math.round(
      Math.max(...during.map((l) => l.latencyMs ?? l.endedAt - l.startedAt)),
    );
    m.othersTimeouts = during.filter((l) => !l.ok).length;
  }
  const fromServer = packetsOf(obs.packets ?? [], clientPort).filter((p) =>
    p.direction === "server_to_client"
  );
  const count = (kind: string) => fromServer.filter((p) => p.kinds.includes(kind as never)).length;
  if (obs.packets) {
    m.keepaliveProbes = count("keepalive_probe");
    m.retransmissions = count("retransmission");
    m.zeroWindowProbes = count("zero_window_probe");
  }
  if (obs.processBefore) {
    [m.fdsBefore, m.rssKbBefore] = [obs.processBefore.fds, obs.processBefore.rssKiB];
  }
  if (obs.processAfter) {
    [m.fdsAfter, m.rssKbAfter] = [obs.processAfter.fds, obs.processAfter.rssKiB];
  }
  if (obs.serverExit) m.serverExit = { code: obs.serverExit.code, signal: obs.serverExit.signal };
  if (obs.churn) [m.churnOpened, m.churnRefused] = [obs.churn.opened, obs.churn.refused];
  return m;
}

/** Turns what was observed into the scenario's result. */
export function evaluate(
  scenario: Scenario,
  obs: Observations,
  durationMs: number,
): ScenarioResult {
  const port = obs.clientPort;
  const base = {
    id: scenario.id,
    title: scenario.title,
    requirement: scenario.requirement,
    level: scenario.level,
    refs: scenario.refs,
    phase: scenario.phase,
    durationMs: Math.round(durationMs),
  };
  const measurements = measure(obs, port);
  const evidence = buildTimeline(obs, port);
  const extras = {
    ...(obs.socketOptions ? { socketOptions: obs.socketOptions } : {}),
    ...(obs.sysctls ? { sysctls: obs.sysctls } : {}),
  };
  if (obs.unsupported || obs.notApplicable || obs.harnessError) {
    const verdict: Verdict = obs.harnessError ? "error" : "skip";
    const notes = obs.harnessError
      ? `Harness error: ${obs.harnessError}`
      : obs.notApplicable
      ? `Not applicable: ${obs.notApplicable}`
      : `Skipped: unsupported on this machine: ${obs.unsupported}`;
    return {
      ...base,
      verdict,
      measurements,
      expectations: scenario.expect.map((e) => ({
        expectation: describe(e),
        verdict,
        measured: "",
      })),
      evidence,
      notes,
      ...extras,
    };
  }
  const expectations = scenario.expect.map((e) => ({
    expectation: describe(e),
    ...judge(e.level ?? scenario.level, e, obs, measurements),
  }));
  const verdict = worst(expectations.map((e) => e.verdict));
  const p = prediction(obs);
  const notes = [
    obs.captureNote,
    obs.teardownNote,
    measurements.fdsAfter !== undefined && obs.socket.at(-1)?.holding === "closed_fd_held"
      ? "The kernel closed the socket but the server still holds its fd."
      : undefined,
  ]
    .filter(Boolean).join(" ");
  const recommendation = recommend(scenario, expectations, obs);
  return {
    ...base,
    verdict,
    measurements,
    expectations,
    ...extras,
    ...(p ? { prediction: toSchema(p) } : {}),
    evidence,
    notes,
    ...(recommendation ? { recommendation } : {}),
  };
}
