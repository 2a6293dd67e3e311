/**
 * Evaluation: observations in, a scenario result out. Reads nothing else, so it is the same
 * on every machine and can be run again on recorded observations. Each expectation is judged
 * by its verifier (verifiers/); the facts they share (the release, the measurements, the
 * kernel's prediction) are derived here once. The rules are written down in
 * suites/INTERPRETING.md.
 *
 * @module
 */

import { lastFromClient } from "../observe/capture.ts";
import type { Observations, PeerBehaviour } from "../observe/observations.ts";
import { closeWhileMapped, unpromptedClose } from "./unprompted_close.ts";
import { predictFromObservations, type PredictionOutcome } from "./predict_release.ts";
import type {
  ExpectationResult,
  Level,
  Measurements,
  Prediction,
  ScenarioResult,
  Verdict,
} from "../results/schema.ts";
import type { Expectation } from "./verifiers/registry.ts";
import { verifierOf } from "./verifiers/registry.ts";
import { countedRelease, type Facts, type Judgement } from "./verifiers/verifier.ts";
import { countAfterFault } from "./packet_counts.ts";
import { packetsOf, releaseHow } from "./release_how.ts";
import { buildTimeline } from "./timeline.ts";

/**
 * What evaluation reads of a scenario: what its result restates, and its expectations (a suite's
 * Scenario is one; evaluation does not need its steps, so it does not depend on lib/suite/).
 */
export type JudgedScenario =
  & Pick<ScenarioResult, "id" | "title" | "requirement" | "level" | "refs" | "phase">
  & { expect: readonly Expectation[] };

/**
 * A helper of the harness that did not end cleanly, in a reader's words (the runner's own
 * message names internals: an error class, a command of the client helper).
 */
const TEARDOWN_NOTE =
  "A helper of the test harness (the test client or the second client) did not stop cleanly after the scenario, once everything was observed.";

const BROKEN: Record<Level, Verdict> = { MUST: "fail", SHOULD: "warn", MAY: "info" };
const SEVERITY: readonly Verdict[] = [
  "error",
  "fail",
  "warn",
  "inconclusive",
  "interrupted",
  "info",
  "pass",
  "skip",
];

/** The worst verdict of a list: error over fail over warn ...; all skipped is skip. */
export function worst(verdicts: readonly Verdict[]): Verdict {
  for (const v of SEVERITY) if (verdicts.includes(v)) return v;
  return "skip";
}

/**
 * The verdict of a judgement at a level. A figure above its budget cannot stand beside a pass:
 * a verifier that found the expectation met says so without a figure that breaks it.
 */
function verdictOf(level: Level, judgement: Judgement, budgetMs: number | undefined): Verdict {
  if (judgement.met === "inconclusive") return "inconclusive";
  if (judgement.met === "not-applicable") return "skip";
  const figure = judgement.found?.ms;
  const within = figure === undefined || budgetMs === undefined || figure <= budgetMs;
  if (!judgement.met || !within) return BROKEN[level];
  return level === "MAY" ? "info" : "pass";
}

function measure(obs: Observations, facts: Pick<Facts, "release" | "prediction">): Measurements {
  const m: Measurements = { harness: obs.run.harness };
  const fault = obs.run.faultAt;
  const moment = obs.run.faultMoment;
  if (moment && fault !== undefined) {
    const micro = (x: number) => Math.round(Math.max(0, x) * 1000) / 1000;
    m.faultMoment = {
      lagMs: micro(fault - moment.askedAt),
      source: moment.source,
      toleranceMs: micro(moment.toleranceMs),
    };
  }
  const { release } = facts;
  const packets = packetsOf(obs.capture.packets ?? [], obs.connection.clientPort);
  if (release.releasedAt !== undefined && fault !== undefined) {
    // A server that closed before the client went down (it answers and closes) released at once.
    m.releaseMs = Math.max(0, Math.round(release.releasedAt - fault));
    // The last the server heard from the client before the fault, on the kernel's clock.
    const lastTraffic = lastFromClient(packets, fault)?.at ?? obs.run.lastTrafficAt;
    if (lastTraffic !== undefined) {
      m.releaseSinceLastTrafficMs = Math.max(0, Math.round(release.releasedAt - lastTraffic));
    }
    m.releasedHow = releaseHow(release.releasedAt, fault, obs.connection.socket, packets);
    if (release.releasedAt < fault) m.releasedBeforeFault = true;
  } else if (
    obs.connection.socket.length && fault !== undefined && !obs.server.exit &&
    facts.prediction?.kind !== "release"
  ) {
    // Not released in what was watched, and no kernel timer will release it either.
    m.releasedHow = "never";
  }
  if (
    release.releasedAt === undefined && release.kernelEndedAt !== undefined && fault !== undefined
  ) {
    m.leak = {
      kernelEndedMs: Math.max(0, Math.round(release.kernelEndedAt - fault)),
      how: releaseHow(release.kernelEndedAt, fault, obs.connection.socket, packets),
      fd: release.heldFd ?? null,
    };
  }
  const during = (obs.bystander ?? []).filter((l) =>
    (fault === undefined || l.endedAt >= fault) && l.endedAt <= obs.run.endAt
  );
  if (during.length) {
    m.othersMaxLatencyMs = Math.round(
      // The kernel's figure where there is one: the probe's own reading moment can be late.
      Math.max(...during.map((l) => l.kernelLatencyMs ?? l.latencyMs ?? l.endedAt - l.startedAt)),
    );
    m.othersTimeouts = during.filter((l) => !l.ok).length;
  }
  if (obs.capture.packets && fault !== undefined) {
    const counts = countAfterFault(packets, fault);
    m.keepaliveProbes = counts.keepaliveProbes;
    m.retransmissions = counts.retransmissions;
    m.zeroWindowProbes = counts.zeroWindowProbes;
  }
  const { before, after, exit } = obs.server;
  if (before) [m.fdsBefore, m.rssKbBefore] = [before.fds, before.rssKiB];
  if (after) [m.fdsAfter, m.rssKbAfter] = [after.fds, after.rssKiB];
  // Samples recorded before client connections were counted have none.
  if (before?.clientConnections !== undefined) {
    m.clientConnectionsBefore = before.clientConnections;
  }
  if (after?.clientConnections !== undefined) m.clientConnectionsAfter = after.clientConnections;
  if (exit) {
    m.serverExit = {
      code: exit.code,
      signal: exit.signal,
      ...(fault === undefined ? {} : { atMs: Math.round(exit.at - fault) }),
    };
  }
  const churn = obs.exchanges.churn;
  if (churn) [m.churnOpened, m.churnRefused] = [churn.opened, churn.refused];
  return m;
}

function peerExpected(obs: Observations): { peerExpected?: PeerBehaviour } {
  const peer = obs.steps.filter((s) => s.peer !== undefined).at(-1)?.peer;
  return peer ? { peerExpected: peer } : {};
}

/** The kernel's outcome for a connection still held when the watch ended, where one applies. */
function predict(obs: Observations, releasedAt: number | undefined): PredictionOutcome | undefined {
  const { options, sysctls, kernelHz } = obs.connection;
  const faultAt = obs.run.faultAt;
  if (releasedAt !== undefined || obs.server.exit || !options || !sysctls) return undefined;
  if (faultAt === undefined || obs.connection.socket.length === 0) return undefined;
  return predictFromObservations({
    options,
    sysctls,
    // Unknown (recorded before it was, or a kernel that does not say): the coarsest wheel.
    kernelHz,
    socket: obs.connection.socket,
    packets: obs.capture.packets === undefined
      ? undefined
      : packetsOf(obs.capture.packets, obs.connection.clientPort),
    faultAt,
    lastTrafficAt: obs.run.lastTrafficAt,
    watchedUntil: obs.run.endAt,
    // What the last step that changed the client's side makes it do; what was observed wins.
    ...peerExpected(obs),
  });
}

function toSchema(
  p: PredictionOutcome,
  faultAt: number,
  watchedMs: number,
): Prediction | undefined {
  if (p.kind === "unknown") return undefined;
  if (p.kind === "never") {
    return {
      predicted: true,
      releaseMs: null,
      from: "last-traffic",
      mechanism: `none: ${p.reason}`,
      how: "never",
      reason: p.reason,
      neverBecause: p.because,
      watchedMs,
      situation: p.situation,
    };
  }
  return {
    predicted: true,
    releaseMs: Math.round(p.at - p.fromAt),
    from: p.from,
    mechanism: `${p.mechanism.replaceAll("_", " ")}: ${p.reason}`,
    how: p.how,
    reason: p.reason,
    toleranceMs: { early: Math.round(p.toleranceMs.early), late: Math.round(p.toleranceMs.late) },
    atMs: Math.round(p.at - faultAt),
    watchedMs,
    situation: p.situation,
  };
}

/**
 * How the server closed an idle connection by itself: unprompted (nothing since the fault, or
 * without one since the end of the steps, could have told it of the fault), and behind a NAT,
 * whether its first close came while the mapping still lived (unprompted_close.ts).
 */
function ownClose(
  obs: Observations,
  phase: string,
): Pick<Facts, "unpromptedClose" | "closedWhileMapped"> {
  const packets = obs.capture.packets;
  const quietFrom = obs.run.faultAt ?? obs.run.stepsEndedAt;
  // An incomplete capture cannot show that the server sent nothing.
  if (phase !== "idle" || !packets || obs.capture.droppedByKernel || quietFrom === undefined) {
    return {};
  }
  const lastTrafficAt = obs.run.lastTrafficAt ??
    obs.steps.filter((s) => s.traffic && s.t <= quietFrom).at(-1)?.t;
  if (lastTrafficAt === undefined) return {};
  const port = obs.connection.clientPort;
  // Up to the survival check: a FIN at teardown, after it, is the harness ending the server.
  const checkedAt = obs.exchanges.survived?.at ?? obs.run.endAt;
  const ours = packetsOf(packets, port).filter((p) => p.at <= checkedAt);
  // What the capture may not hold: the client's own sends (dropped before the capture point
  // during an outage), an ICMP error quoting a segment of the connection, a retransmission
  // counted in the server's socket.
  const otherSigns = [
    ...obs.steps.filter((s) => s.traffic).map((s) => s.t),
    ...(obs.capture.unreachables ?? []).filter((u) => u.clientPort === port).map((u) => u.at),
    ...obs.connection.socket.filter((e) => e.retransmits > 0).map((e) => e.at),
  ];
  const nat = obs.run.natTimeoutMs;
  const unprompted = unpromptedClose(ours, quietFrom, {
    lastTrafficAt,
    otherSigns,
    ...(nat === undefined ? {} : { natTimeoutMs: nat }),
  });
  const whileMapped = nat === undefined
    ? undefined
    : closeWhileMapped(ours, quietFrom, nat, lastTrafficAt);
  return {
    ...(unprompted ? { unpromptedClose: unprompted } : {}),
    ...(whileMapped ? { closedWhileMapped: whileMapped } : {}),
  };
}

/** What an expectation's result holds before it is judged: its kind, words, level and budget. */
function expected(
  e: Expectation,
  scenario: JudgedScenario,
): Pick<ExpectationResult, "kind" | "expectation" | "level" | "budgetMs"> {
  const verifier = verifierOf(e.kind)!;
  const budgetMs = verifier.budgetMs(e as never);
  return {
    kind: e.kind,
    expectation: verifier.describe(e as never),
    level: e.level ?? scenario.level,
    ...(budgetMs === undefined ? {} : { budgetMs }),
  };
}

/** Why the whole scenario has one verdict without judging: skipped, errored or interrupted. */
function outcomeVerdict(obs: Observations): { verdict: Verdict; notes: string } | undefined {
  const o = obs.run.outcome;
  switch (o.kind) {
    case "completed":
      return undefined;
    case "unsupported":
      return { verdict: "skip", notes: `Skipped: unsupported on this machine: ${o.reason}` };
    case "not-applicable":
      return { verdict: "skip", notes: `Not applicable: ${o.reason}` };
    case "harness-error":
      return { verdict: "error", notes: `Harness error: ${o.message}` };
    case "interrupted":
      return { verdict: "interrupted", notes: `Interrupted: ${o.reason}` };
  }
}

/** A judgement's words as the start of a sentence: "Not applicable: …". */
function sentence(words: string): string {
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Turns what was observed into the scenario's result. `knobs` are the target's settings in
 * words, which a result names when the server's own timeouts may act before the kernel's.
 */
export function evaluate(
  scenario: JudgedScenario,
  obs: Observations,
  durationMs: number,
  knobs: Readonly<Record<string, string>> = {},
): ScenarioResult {
  const base = {
    id: scenario.id,
    title: scenario.title,
    requirement: scenario.requirement,
    level: scenario.level,
    refs: scenario.refs,
    phase: scenario.phase,
    durationMs: Math.round(durationMs),
  };
  const release = countedRelease(obs);
  const prediction = predict(obs, release.releasedAt);
  const measurements = measure(obs, { release, prediction });
  const evidence = buildTimeline(obs);
  const extras = {
    ...(obs.connection.options ? { socketOptions: obs.connection.options } : {}),
    ...(obs.connection.sysctls ? { sysctls: obs.connection.sysctls } : {}),
    ...(obs.server.log ? { server: { log: obs.server.log } } : {}),
  };
  const whole = outcomeVerdict(obs);
  if (whole) {
    return {
      ...base,
      verdict: whole.verdict,
      measurements,
      expectations: scenario.expect.map((e) => ({
        ...expected(e, scenario),
        verdict: whole.verdict,
        measured: "",
      })),
      evidence,
      notes: whole.notes,
      ...extras,
    };
  }
  const faultAt = obs.run.faultAt;
  // Without a fault moment (a survival check only), the watch starts when the steps end.
  const watchedFrom = faultAt ?? obs.run.stepsEndedAt ?? obs.run.endAt;
  const watchedMs = Math.max(0, obs.run.endAt - watchedFrom);
  const facts: Facts = {
    obs,
    release,
    watchedUntil: obs.run.endAt,
    watchedMs,
    prediction,
    measurements,
    phase: scenario.phase,
    knobs,
  };
  Object.assign(facts, ownClose(obs, scenario.phase));
  const judged = scenario.expect.map((e) => {
    const verifier = verifierOf(e.kind)!;
    const judgement = verifier.judge(e as never, facts);
    const what = expected(e, scenario);
    const result: ExpectationResult = {
      ...what,
      verdict: verdictOf(what.level, judgement, what.budgetMs),
      ...(judgement.found ? { actual: judgement.found } : {}),
      measured: judgement.actual,
      ...(judgement.predicted ? { predicted: true } : {}),
    };
    return { e, judgement, result, advice: () => verifier.advice(e as never, facts) };
  });
  const expectations = judged.map((j) => j.result);
  // A question the server made moot: the scenario is skipped, unless something else broke.
  const moot = judged.find((j) => j.judgement.met === "not-applicable");
  const judgedVerdict = worst(expectations.map((e) => e.verdict));
  const verdict = moot && (judgedVerdict === "pass" || judgedVerdict === "info")
    ? "skip"
    : judgedVerdict;
  const broken = judged.find((j) => j.result.verdict === "fail" || j.result.verdict === "warn");
  const recommendation = broken?.advice();
  const predicted = prediction && faultAt !== undefined
    ? toSchema(prediction, faultAt, Math.round(watchedMs))
    : undefined;
  const harnessNotes = [obs.capture.note, obs.run.teardownNote ? TEARDOWN_NOTE : undefined]
    .filter(Boolean).join(" ");
  return {
    ...base,
    verdict,
    measurements,
    expectations,
    ...extras,
    ...(predicted ? { prediction: predicted } : {}),
    evidence,
    notes: verdict === "skip" && moot
      ? [`${sentence(moot.judgement.actual)}.`, moot.judgement.why ?? ""].join(" ").trim()
      : "",
    ...(harnessNotes ? { harnessNotes } : {}),
    ...(recommendation ? { recommendation } : {}),
  };
}
