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
import { recordExit, sampleProcess } from "../observe/server_process.ts";
import { readTcpSysctls } from "../observe/socket_options.ts";
import type { Scenario } from "../suite/define_suite.ts";
import { parseDuration } from "../suite/duration.ts";
import { isDownStep } from "../suite/steps.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import { type RunningTarget, startTarget } from "../target/start_target.ts";
import { exchangeOn, executeStep } from "./execute_step.ts";
import type { Observations } from "./observations.ts";
import { NotApplicable, type ScenarioContext } from "./scenario_context.ts";

/** The least time the runner watches after the fault, so a late death or stall is seen. */
const OBSERVE_MS = 2000;
/** How often the wait loop looks at what it waits for. */
const POLL_MS = 25;
/** Bystander probing: one exchange this often, each given this long. */
const LIVENESS = { intervalMs: 200, timeoutMs: 1000 };

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
      plan.restoreMs > elapsed && sampleProcess(ctx.server.pid).fds > baselineFds,
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
    } else {
      const done = await exchangeOn(ctx, ctx.conn, "exchange after the outage");
      obs.steps.push(done);
      obs.survived = { ok: done.ok, ...(done.error ? { error: done.error } : {}) };
    }
  }
}

/** Runs one scenario against a fresh instance of `target` and returns what was observed. */
export async function runScenario(
  target: TargetDefinition,
  scenario: Scenario,
  deadlineMs: number,
  report: WaitReporter = () => {},
): Promise<Observations> {
  const obs: Observations = {
    steps: [],
    socket: [],
    endAt: 0,
    waitedMs: 0,
    harness: { labUpMs: 0, targetReadyMs: 0, teardownMs: 0 },
  };
  const family = scenario.family ?? "v4";
  let lab: Lab | undefined, server: RunningTarget | undefined, agent: ClientAgent | undefined;
  let capture: Capture | undefined,
    liveness: LivenessProbe | undefined,
    ctx: ScenarioContext | undefined;
  let stopping = false; // the server's exit at teardown is ours, not the scenario's
  try {
    let t = monotonicMs();
    report("the lab");
    lab = await createLab();
    obs.harness.labUpMs = monotonicMs() - t;
    t = monotonicMs();
    report("the target to listen");
    const sysctls = readTcpSysctls(lab.hosts.server);
    [server, agent] = await Promise.all([startTarget(target, lab, family), ClientAgent.start(lab)]);
    obs.harness.targetReadyMs = monotonicMs() - t;
    obs.sysctls = await sysctls;
    const exited = recordExit(server.child);
    exited.then((exit) => {
      if (!stopping) obs.serverExit = exit;
    });
    const captured = await startCapture(lab, { iface: "r1", port: server.port });
    if (captured.available) capture = captured;
    else obs.captureNote = `No packet capture: ${captured.reason}`;
    if (scenario.expect.some((e) => e.kind === "others-served")) {
      liveness = await LivenessProbe.start(lab, {
        address: server.address,
        port: server.port,
        exchange: target.protocol.request,
        ...LIVENESS,
      });
    }
    ctx = {
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
        obs.processBefore = sampleProcess(server.pid);
        obs.lastTrafficAt = obs.steps.filter((s) => s.traffic).at(-1)?.t;
        report(step.kind === "fault" ? `fault ${step.fault.name}` : step.kind);
      }
      await executeStep(ctx, step);
      if (isDownStep(step) && obs.faultAt === undefined) obs.faultAt = obs.steps.at(-1)?.t;
    }
    await waitForServer(ctx, scenario, report);
  } catch (error) {
    if (error instanceof FaultUnsupported) obs.unsupported = error.reason;
    else if (error instanceof NotApplicable) obs.notApplicable = error.message;
    else obs.harnessError = error instanceof Error ? error.message : String(error);
  } finally {
    obs.endAt = monotonicMs();
    stopping = true;
    if (server && !server.child.exited) obs.processAfter = sampleProcess(server.pid);
    ctx?.watch?.stop();
    obs.socket = [...(ctx?.watch?.events ?? [])];
    obs.releasedAt = ctx?.watch?.released() ?? obs.socket.find((e) => e.state === "GONE")?.at;
    const t = monotonicMs();
    const ended = await Promise.allSettled([
      liveness?.stop().then((samples) => obs.liveness = samples),
      capture?.stop().then((packets) => obs.packets = packets),
      agent?.stop(),
      server?.stop(),
    ]);
    await lab?.teardown();
    obs.harness.teardownMs = monotonicMs() - t;
    const failed = ended.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed && !obs.harnessError) obs.harnessError = `Teardown: ${String(failed.reason)}`;
  }
  return obs;
}
