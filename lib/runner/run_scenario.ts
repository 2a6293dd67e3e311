/**
 * One scenario, start to end: its own lab and server, the observers, the steps, the wait
 * for the server to act (bounded by the deadline), and teardown in `finally`. Produces
 * observations only; evaluation happens elsewhere.
 *
 * @module
 */

import { ClientAgent } from "../client/client_agent.ts";
import { LivenessProbe } from "../client/liveness_probe.ts";
import { FaultUnsupported } from "../faults/unsupported.ts";
import { CLIENT } from "../lab/address_plan.ts";
import { createLab, type Lab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { type Capture, startCapture } from "../observe/capture.ts";
import { recordExit, sampleServer } from "../observe/server_process.ts";
import { readTcpSysctls } from "../observe/socket_options.ts";
import type { Scenario } from "../suite/define_suite.ts";
import { Gate } from "./pool.ts";
import { parseDuration } from "../time/duration.ts";
import { isDownStep } from "../suite/steps.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import { type RunningTarget, startTarget } from "../target/start_target.ts";
import { exchangeOn, executeStep, readServerOptions } from "./execute_step.ts";
import type { Observations } from "./observations.ts";
import { NotApplicable, type ScenarioContext } from "./scenario_context.ts";

/** The least time the runner watches after the fault, so a late death or stall is seen. */
const OBSERVE_MS = 2000;
/** How often the wait loop looks at what it waits for. */
const POLL_MS = 25;
/** Bystander probing: one exchange this often, each given this long. */
const LIVENESS = { intervalMs: 500, timeoutMs: 1000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the runner is waiting for, for the progress display. */
export type WaitReporter = (what: string) => void;

function waitPlan(scenario: Scenario, deadlineMs: number) {
  let releaseMs = 0, surviveMs = 0, restoreMs = 0;
  for (const e of scenario.expect) {
    if (e.kind === "released") releaseMs = Math.min(parseDuration(e.within), deadlineMs);
    if (e.kind === "survives") surviveMs = Math.min(parseDuration(e.for ?? 0), deadlineMs);
    if (e.kind === "resources-restored") restoreMs = deadlineMs;
  }
  return { releaseMs, surviveMs, restoreMs, observeMs: Math.min(OBSERVE_MS, deadlineMs) };
}

async function waitForServer(
  ctx: ScenarioContext,
  scenario: Scenario,
  report: WaitReporter,
): Promise<void> {
  const { obs } = ctx;
  const start = obs.faultAt ?? monotonicMs();
  const plan = waitPlan(scenario, ctx.deadlineMs);
  const limit = Math.max(plan.releaseMs, plan.surviveMs, plan.restoreMs, plan.observeMs);
  report(
    plan.releaseMs
      ? "the server to release the connection"
      : plan.surviveMs
      ? "the outage to pass"
      : "the server",
  );
  const baselineFds = obs.processBefore?.fds ?? Infinity;
  for (;;) {
    const elapsed = monotonicMs() - start;
    if (elapsed >= limit || ctx.server.child.exited) break;
    const released = ctx.watch?.released() !== undefined ||
      ctx.watch?.events.at(-1)?.state === "GONE";
    const pending = [
      plan.releaseMs > elapsed && !released,
      plan.surviveMs > elapsed,
      plan.restoreMs > elapsed && sampleServer(ctx.server.pid).fds > baselineFds,
      plan.observeMs > elapsed,
    ];
    if (!pending.some(Boolean)) break;
    await sleep(POLL_MS);
  }
  obs.waitedMs = monotonicMs() - start;
  if (plan.surviveMs || scenario.expect.some((e) => e.kind === "survives")) {
    if (ctx.conn === undefined || ctx.server.child.exited) {
      obs.survived = {
        ok: false,
        error: ctx.server.child.exited ? "server exited" : "no connection",
      };
    } else if (ctx.target.protocol.oneRequestPerConnection) {
      // Nothing can be asked again on this connection: its state is the evidence.
      const info = await ctx.agent.info(ctx.conn);
      const server = ctx.watch?.events.at(-1);
      const up = info.ok && info.state === "ESTABLISHED" && server?.holding === "held" &&
        server.state === "ESTABLISHED";
      obs.survived = up ? { ok: true, byState: true } : {
        ok: false,
        error: `connection state ${info.ok ? info.state : info.error} / ${
          server?.state ?? "unknown"
        }`,
      };
    } else {
      const done = await exchangeOn(ctx, ctx.conn, "exchange after the outage");
      obs.steps.push(done);
      obs.survived = { ok: done.ok, ...(done.error ? { error: done.error } : {}) };
    }
  }
}

/** The parts of a running scenario, each there once it has started. */
interface Parts {
  lab?: Lab;
  server?: RunningTarget;
  agent?: ClientAgent;
  capture?: Capture;
  liveness?: LivenessProbe;
  ctx?: ScenarioContext;
}

async function setUp(
  target: TargetDefinition,
  scenario: Scenario,
  obs: Observations,
  parts: Parts,
  report: WaitReporter,
  isStopping: () => boolean,
): Promise<{ lab: Lab; server: RunningTarget; agent: ClientAgent }> {
  const family = scenario.family ?? "v4";
  let t = monotonicMs();
  report("the lab");
  const lab = parts.lab = await createLab();
  obs.harness.labUpMs = monotonicMs() - t;
  t = monotonicMs();
  report("the target to listen");
  const sysctls = readTcpSysctls(lab.hosts.server);
  const [server, agent] = await Promise.all([
    startTarget(target, lab, family).then((s) => parts.server = s),
    ClientAgent.start(lab).then((a) => parts.agent = a),
  ]);
  obs.harness.targetReadyMs = monotonicMs() - t;
  obs.sysctls = await sysctls;
  recordExit(server.child).then((exit) => {
    if (!isStopping()) obs.serverExit = exit;
  });
  const captured = await startCapture(lab, { iface: "r1", port: server.port });
  if (captured.available) parts.capture = captured;
  else obs.captureNote = `No packet capture: ${captured.reason}`;
  if (scenario.expect.some((e) => e.kind === "others-served")) {
    parts.liveness = await LivenessProbe.start(lab, {
      address: server.address,
      port: server.port,
      exchange: target.protocol.request,
      ...(target.protocol.greeting ? { greeting: target.protocol.greeting } : {}),
      fresh: target.protocol.oneRequestPerConnection === true,
      ...LIVENESS,
    });
    // The bystander's connection belongs in the baseline the server is measured against.
    await parts.liveness.firstSample(LIVENESS.timeoutMs * 2);
  }
  return { lab, server, agent };
}

async function tearDown(obs: Observations, parts: Parts): Promise<void> {
  const t = monotonicMs();
  // The bystander first: stopping the server under it would count as a stall.
  const liveness = parts.liveness;
  const probed = await Promise.allSettled([
    liveness?.stop().then(
      (samples) => obs.liveness = samples,
      (error) => {
        // Its agent failed to end cleanly: the exchanges it recorded still stand.
        obs.liveness = [...liveness.samples];
        throw error;
      },
    ),
  ]);
  const ended = await Promise.allSettled([
    parts.capture?.stop().then((packets) => obs.packets = packets),
    parts.agent?.stop(),
    parts.server?.stop(),
  ]);
  await parts.lab?.teardown();
  obs.harness.teardownMs = monotonicMs() - t;
  // What was observed stands; a hiccup while ending the helpers is worth a note only.
  const failed = [...probed, ...ended].filter((r): r is PromiseRejectedResult =>
    r.status === "rejected"
  );
  if (failed.length) {
    obs.teardownNote = `Teardown: ${failed.map((f) => String(f.reason)).join("; ")}`;
  }
}

/**
 * Runs one scenario against a fresh instance of `target` and returns what was observed.
 * Setting up (processes start, namespaces are made) is CPU-bound: `startGate` lets only a few
 * scenarios do it at once, so many can wait at once without starving each other's start.
 */
export async function runScenario(
  target: TargetDefinition,
  scenario: Scenario,
  deadlineMs: number,
  report: WaitReporter = () => {},
  startGate: Gate = new Gate(1),
): Promise<Observations> {
  const obs: Observations = {
    steps: [],
    socket: [],
    endAt: 0,
    waitedMs: 0,
    harness: { labUpMs: 0, targetReadyMs: 0, teardownMs: 0 },
  };
  const family = scenario.family ?? "v4";
  const parts: Parts = {};
  let stopping = false; // the server's exit at teardown is ours, not the scenario's
  try {
    const { lab, server, agent } = await startGate.through(() =>
      setUp(target, scenario, obs, parts, report, () => stopping)
    );
    const ctx: ScenarioContext = parts.ctx = {
      lab,
      target,
      server,
      family,
      agent,
      deadlineMs,
      obs,
      clientAddressSeen: CLIENT[family],
    };
    for (const step of scenario.steps) {
      if (isDownStep(step) && obs.faultAt === undefined) {
        readServerOptions(ctx);
        obs.processBefore = sampleServer(server.pid);
        obs.lastTrafficAt = obs.steps.filter((s) => s.traffic).at(-1)?.t;
        report(step.kind === "fault" ? `fault ${step.fault.name}` : step.kind);
        // The moment the runner starts taking the client down: some faults act during their
        // own call (ss -K sends its RST before it returns).
        obs.faultAt = monotonicMs();
      }
      await executeStep(ctx, step);
    }
    await waitForServer(ctx, scenario, report);
  } catch (error) {
    if (error instanceof FaultUnsupported) obs.unsupported = error.reason;
    else if (error instanceof NotApplicable) obs.notApplicable = error.message;
    else obs.harnessError = error instanceof Error ? error.message : String(error);
  } finally {
    obs.endAt = monotonicMs();
    stopping = true;
    if (parts.server && !parts.server.child.exited) {
      obs.processAfter = sampleServer(parts.server.pid);
    }
    parts.ctx?.watch?.stop();
    obs.socket = [...(parts.ctx?.watch?.events ?? [])];
    obs.releasedAt = parts.ctx?.watch?.released() ?? obs.socket.find((e) => e.state === "GONE")?.at;
    await tearDown(obs, parts);
  }
  return obs;
}
