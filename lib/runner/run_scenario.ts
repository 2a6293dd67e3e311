/**
 * One scenario, start to end: its own lab and server, the observers, the steps (each run in
 * full), the wait for the server's reaction (bounded by the deadline), and teardown in
 * `finally`. Produces observations only; evaluation happens elsewhere.
 *
 * @module
 */

import { ClientAgent } from "../client/client_agent.ts";
import { LivenessProbe } from "../client/liveness_probe.ts";
import { readNatMappings } from "../faults/nat_mappings.ts";
import { faultNamed } from "../faults/registry.ts";
import { FaultUnsupported, unsupportedFault } from "../faults/unsupported.ts";
import { CLIENT } from "../lab/address_plan.ts";
import { createLab, type Lab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { type Capture, startCapture } from "../observe/capture.ts";
import { runningKernelHz } from "../observe/kernel_hz.ts";
import { emptyObservations, type Observations } from "../observe/observations.ts";
import { processTree } from "../process/process_tree.ts";
import { clientConnections, recordExit, sampleServer } from "../observe/server_process.ts";
import { readTcpSysctls } from "../observe/socket_options.ts";
import { readSocketTable, type SocketEntry } from "../observe/proc_net_tcp.ts";
import { CLOSED_BY_SERVER, isConnectionFrom } from "../observe/socket_watch.ts";
import type { Scenario } from "../suite/define_suite.ts";
import { isDownStep } from "../suite/steps.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import { type RunningTarget, startTarget } from "../target/start_target.ts";
import { verifierOf } from "../evaluate/verifiers/registry.ts";
import { exchangeOn, executeStep, readServerOptions, sleepUnless } from "./execute_step.ts";
import { capturedMoment, type FaultMoment, segmentMoment, stepMoment } from "./fault_moment.ts";
import { Gate } from "./pool.ts";
import { NotApplicable, type ScenarioContext } from "./scenario_context.ts";
import { EXCHANGE_MS, OBSERVE_MS, type TimePlan, timePlan, waitAfterSteps } from "./time_plan.ts";

/** How often the wait loop looks at what it waits for. */
const POLL_MS = 25;
/** Bystander probing: one exchange this often, each given this long. */
const LIVENESS = { intervalMs: 500, timeoutMs: 1000 };
/** The server's own words kept as evidence: the last lines of its output, at most this long. */
const LOG_TAIL = { lines: 20, chars: 4000 };

/**
 * Phases in which the server has nothing left to send when the client goes down: the fault
 * waits until the client's kernel has acknowledged everything (its delayed ACK of the last
 * reply may lag the read by up to 40 ms), or the "idle" connection would go down with data in
 * flight and the kernel would treat it as such (retransmissions instead of keepalive).
 */
const QUIET_PHASES: ReadonlySet<string> = new Set(["idle", "mid-request"]);
/** How long the fault waits at most for that acknowledgment. */
const ACK_SETTLE_MS = 1000;

/**
 * The server's socket of the connection under test, read from the socket table now (not the
 * watch's last sample, which may lag); undefined when gone, "unconnected" before connect().
 */
function connectionRow(ctx: ScenarioContext): SocketEntry | undefined | "unconnected" {
  const port = ctx.connection.clientPort;
  if (port === undefined) return "unconnected";
  const peer = { address: ctx.clientAddressSeen, port };
  return readSocketTable(ctx.server.pid).find((e) => isConnectionFrom(e, peer, ctx.server.port));
}

/** Waits until the server's socket shows nothing unacknowledged, at most ACK_SETTLE_MS. */
async function untilAcknowledged(ctx: ScenarioContext): Promise<void> {
  const until = monotonicMs() + ACK_SETTLE_MS;
  while (monotonicMs() < until) {
    const row = connectionRow(ctx);
    if (row === "unconnected" || !row || row.txQueue === 0) return;
    await sleepUnless(5, ctx.signal);
  }
}

/** Whether the server has already closed the connection under test (or it is gone). */
function closedByServer(ctx: ScenarioContext): boolean {
  const row = connectionRow(ctx);
  if (row === "unconnected") return false;
  return !row || (row.inode === 0 && CLOSED_BY_SERVER.has(row.state));
}

/**
 * A survival scenario does not apply to a server that has already closed the connection (one
 * that closes after each response): asked at the fault, or when the steps end without one.
 */
function requireConnectionToSurvive(ctx: ScenarioContext, scenario: Scenario): void {
  if (scenario.expect.some((e) => e.kind === "survives") && closedByServer(ctx)) {
    throw new NotApplicable(
      "The server closes the connection after each response: there is no open connection left to survive the fault",
    );
  }
}

/**
 * The longest a server's pending retransmission may keep the survival check's answer back:
 * TCP_RTO_MAX's default.
 */
const RETRANSMIT_WAIT_MAX_MS = 120_000;

/** What the runner is waiting for, for the progress display. */
export type WaitReporter = (what: string) => void;

/** Waits after the steps until every expectation has what it needs, the deadline, or a death. */
async function waitForServer(
  ctx: ScenarioContext,
  obs: Observations,
  scenario: Scenario,
  report: WaitReporter,
): Promise<void> {
  const start = monotonicMs();
  obs.run.stepsEndedAt = start;
  const waitMs = waitAfterSteps(ctx.plan, obs.run.faultAt, start);
  obs.run.waitPlannedMs = waitMs;
  const kinds = new Set(scenario.expect.map((e) => e.kind));
  report(
    kinds.has("released")
      ? "the server to release the connection"
      : kinds.has("survives")
      ? "the outage to pass"
      : "the server",
  );
  const atFault = obs.server.before?.clientConnections;
  while (monotonicMs() - start < waitMs && !ctx.server.child.exited && !ctx.signal.aborted) {
    // Counted only when a verifier asks (reading the socket tables is the costly part of a poll).
    let connectionsNow: number | undefined;
    const pid = ctx.server.pid;
    const live = {
      faultAt: obs.run.faultAt,
      socket: ctx.watch?.events ?? [],
      clientConnections: {
        get now() {
          return connectionsNow ??= clientConnections(processTree(pid));
        },
        atFault,
      },
    };
    const sinceFault = monotonicMs() - (obs.run.faultAt ?? start);
    const pending = scenario.expect.some((e) => {
      const v = verifierOf(e.kind);
      return v !== undefined && sinceFault < v.watchMs(e as never) &&
        !v.settled(e as never, live);
    });
    if (!pending && sinceFault >= OBSERVE_MS) break;
    await sleepUnless(POLL_MS, ctx.signal);
  }
  if (!kinds.has("survives") || ctx.signal.aborted) return;
  obs.exchanges.survived = await survivalCheck(ctx, obs);
}

/** Whether the connection under test is still usable: an exchange, or both ends' state. */
async function survivalCheck(
  ctx: ScenarioContext,
  obs: Observations,
): Promise<NonNullable<Observations["exchanges"]["survived"]>> {
  const at = monotonicMs();
  if (ctx.conn === undefined) return { ok: false, error: "no connection", at };
  if (ctx.server.child.exited) return { ok: false, error: "server exited", at };
  // Behind a NAT the mapping is what must survive: the client's own next packet would make a
  // new one, so the exchange below cannot tell. Look at the NAT first (whether the server had
  // closed the connection while the mapping lived is for evaluation to say, from the capture).
  if (ctx.natTimeoutMs !== undefined) {
    const mappings = await readNatMappings(ctx.lab);
    const port = ctx.connection.clientPort;
    if (
      !(mappings instanceof FaultUnsupported) &&
      !mappings.some((m) => m.original.sport === port && m.original.dport === ctx.server.port)
    ) {
      return { ok: false, error: "the NAT forgot the connection's mapping", natForgot: true, at };
    }
  }
  if (ctx.target.protocol.oneRequestPerConnection) {
    // Nothing can be asked again on this connection: its state is the evidence.
    const info = await ctx.agent.info(ctx.conn);
    const server = ctx.watch?.events.at(-1);
    const up = info.ok && info.state === "ESTABLISHED" && server?.holding === "held" &&
      server.state === "ESTABLISHED";
    return up ? { ok: true, byState: true, at } : {
      ok: false,
      error: `connection state ${info.ok ? info.state : info.error} / ${
        server?.state ?? "unknown"
      }`,
      at,
    };
  }
  // A server with data in flight to a client that was away sends nothing new until its
  // backed-off retransmission timer fires (RFC 6298 §5.5): the answer may wait that long, and
  // that is no loss. Wait for it, as far as the kernel's longest retransmission timeout.
  const row = connectionRow(ctx);
  const pendingMs = row !== undefined && row !== "unconnected" && row.timer === "retransmit"
    ? Math.min(row.timerMs, RETRANSMIT_WAIT_MAX_MS)
    : 0;
  const done = await exchangeOn(
    ctx,
    ctx.conn,
    "exchange",
    ctx.target.protocol.request,
    EXCHANGE_MS + pendingMs,
  );
  obs.steps.push(done);
  return { ok: done.ok, ...(done.error ? { error: done.error } : {}), at: done.t };
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

/** Whether the client must be a process a step can kill or stop (see ClientAgent's holder). */
function needsHolder(scenario: Scenario): boolean {
  return scenario.steps.some((step) =>
    step.kind === "crash" || step.kind === "freeze" || step.kind === "thaw" ||
    (step.kind === "churn" && step.then === "crash")
  );
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
  obs.run.harness.labUpMs = monotonicMs() - t;
  t = monotonicMs();
  report("the target to listen");
  const sysctls = readTcpSysctls(lab.hosts.server);
  const kernelHz = runningKernelHz();
  const [server, agent] = await Promise.all([
    startTarget(target, lab, family).then((s) => parts.server = s),
    ClientAgent.start(lab, { holder: needsHolder(scenario) }).then((a) => parts.agent = a),
  ]);
  obs.run.harness.targetReadyMs = monotonicMs() - t;
  obs.connection.sysctls = sysctls;
  const hz = await kernelHz;
  if (hz !== undefined) obs.connection.kernelHz = hz;
  recordExit(server.child).then((exit) => {
    if (!isStopping()) obs.server.exit = exit;
  });
  const captured = await startCapture(lab, { iface: "r1", port: server.port });
  if (captured.available) parts.capture = captured;
  else obs.capture.note = `No packet capture: ${captured.reason}`;
  if (scenario.expect.some((e) => verifierOf(e.kind)?.needsBystander)) {
    obs.bystanderTimeoutMs = LIVENESS.timeoutMs;
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

async function logTail(path: string): Promise<string | undefined> {
  try {
    const text = (await Deno.readTextFile(path)).trimEnd();
    const tail = text.split("\n").slice(-LOG_TAIL.lines).join("\n");
    return tail.length > LOG_TAIL.chars ? tail.slice(-LOG_TAIL.chars) : tail || undefined;
  } catch {
    return undefined;
  }
}

async function tearDown(obs: Observations, parts: Parts): Promise<void> {
  const t = monotonicMs();
  // The bystander first: stopping the server under it would count as a stall.
  const liveness = parts.liveness;
  const probed = await Promise.allSettled([
    liveness?.stop().then(
      (samples) => obs.bystander = samples,
      (error) => {
        // It failed to end cleanly: the exchanges it recorded still stand.
        obs.bystander = [...liveness.samples];
        throw error;
      },
    ),
  ]);
  const ended = await Promise.allSettled([
    parts.capture?.stop().then(({ packets, unreachables, droppedByKernel }) => {
      obs.capture.packets = packets;
      obs.capture.unreachables = unreachables;
      if (droppedByKernel !== undefined) obs.capture.droppedByKernel = droppedByKernel;
      if (droppedByKernel) {
        obs.capture.note =
          `The packet capture is incomplete: the kernel dropped ${droppedByKernel} packet(s) before tcpdump read them.`;
      }
    }),
    parts.agent?.stop(),
    parts.server?.stop(),
  ]);
  // The server's own words, read before its lab directory goes.
  const log = parts.server ? await logTail(parts.server.logPath) : undefined;
  if (log) obs.server.log = log;
  await parts.lab?.teardown();
  obs.run.harness.teardownMs = monotonicMs() - t;
  // What was observed stands; a hiccup while ending the helpers is worth a note only.
  const failed = [...probed, ...ended].filter((r): r is PromiseRejectedResult =>
    r.status === "rejected"
  );
  if (failed.length) {
    obs.run.teardownNote = `Teardown: ${failed.map((f) => String(f.reason)).join("; ")}`;
  }
}

/** The first capability the scenario's faults need that this machine lacks, if any. */
async function missingCapability(scenario: Scenario): Promise<FaultUnsupported | undefined> {
  for (const step of scenario.steps) {
    if (step.kind !== "fault") continue;
    const fault = faultNamed(step.fault.name);
    if (!fault) continue;
    const unsupported = await unsupportedFault(fault.name, fault.needs(step.fault));
    if (unsupported) return unsupported;
  }
  return undefined;
}

function setFaultMoment(obs: Observations, moment: FaultMoment): void {
  const { at, ...how } = moment;
  obs.run.faultAt = at;
  obs.run.faultMoment = how;
}

function interruptReason(signal: AbortSignal): string {
  return String(signal.reason ?? "interrupted");
}

/**
 * Runs one scenario against a fresh instance of `target` and returns what was observed.
 * Setting up (processes start, namespaces are made) is CPU-bound: `startGate` lets only a few
 * scenarios do it at once, so many can wait at once without starving each other's start.
 * When `signal` aborts, the scenario stops where it is, tears down, and is `interrupted`.
 */
export async function runScenario(
  target: TargetDefinition,
  scenario: Scenario,
  deadlineMs: number,
  report: WaitReporter = () => {},
  startGate: Gate = new Gate(1),
  signal: AbortSignal = new AbortController().signal,
): Promise<Observations> {
  const plan: TimePlan = timePlan(scenario, deadlineMs);
  const obs = emptyObservations(deadlineMs);
  const family = scenario.family ?? "v4";
  const parts: Parts = {};
  let stopping = false; // the server's exit at teardown or interrupt is ours, not the scenario's
  let askedAt: number | undefined; // when the runner asked for the first step taking the client down
  let downBySegment = false; // that step's moment is its FIN or RST, read from the capture
  signal.addEventListener("abort", () => stopping = true, { once: true });
  try {
    const unsupported = await missingCapability(scenario);
    if (unsupported) throw unsupported;
    const { lab, server, agent } = await startGate.through(() =>
      setUp(target, scenario, obs, parts, report, () => stopping)
    );
    const ctx: ScenarioContext = parts.ctx = {
      lab,
      target,
      server,
      family,
      agent,
      plan,
      signal,
      connection: obs.connection,
      exchanges: obs.exchanges,
      clientAddressSeen: CLIENT[family],
      undoable: [],
    };
    for (const step of scenario.steps) {
      if (signal.aborted) break;
      if (isDownStep(step) && obs.run.faultAt === undefined) {
        if (QUIET_PHASES.has(scenario.phase)) await untilAcknowledged(ctx);
        requireConnectionToSurvive(ctx, scenario);
        readServerOptions(ctx);
        obs.server.before = sampleServer(server.pid);
        const traffic = obs.steps.filter((s) => s.traffic).at(-1)?.t;
        if (traffic !== undefined) obs.run.lastTrafficAt = traffic;
        report(step.kind === "fault" ? `fault ${step.fault.name}` : step.kind);
        // Until the step says when it took effect, the moment the runner asked stands.
        askedAt = obs.run.faultAt = monotonicMs();
        downBySegment = capturedMoment(step);
      }
      const done = await executeStep(ctx, step);
      obs.steps.push(...done);
      if (askedAt !== undefined && obs.run.faultMoment === undefined) {
        setFaultMoment(obs, stepMoment(askedAt, done));
      }
      if (ctx.natTimeoutMs !== undefined) obs.run.natTimeoutMs = ctx.natTimeoutMs;
    }
    // No step took the client down (a NAT's timeout is the threat): asked when the steps end.
    if (obs.run.faultAt === undefined) requireConnectionToSurvive(ctx, scenario);
    if (!signal.aborted) await waitForServer(ctx, obs, scenario, report);
  } catch (error) {
    if (signal.aborted) {
      // What failed was cut short by the interrupt: not the server's doing, nor a harness error.
    } else if (error instanceof FaultUnsupported) {
      obs.run.outcome = { kind: "unsupported", reason: error.reason };
    } else if (error instanceof NotApplicable) {
      obs.run.outcome = { kind: "not-applicable", reason: error.message };
    } else {
      obs.run.outcome = {
        kind: "harness-error",
        message: error instanceof Error ? error.message : String(error),
      };
    }
  } finally {
    obs.run.endAt = monotonicMs();
    stopping = true;
    if (signal.aborted) obs.run.outcome = { kind: "interrupted", reason: interruptReason(signal) };
    if (parts.server && !parts.server.child.exited) {
      obs.server.after = sampleServer(parts.server.pid);
    }
    parts.ctx?.watch?.stop();
    obs.connection.socket = [...(parts.ctx?.watch?.events ?? [])];
    await tearDown(obs, parts);
  }
  const moment = obs.run.faultMoment;
  if (downBySegment && moment && obs.run.faultAt !== undefined) {
    const at = { ...moment, at: obs.run.faultAt };
    setFaultMoment(obs, segmentMoment(at, obs.capture.packets ?? [], obs.connection.clientPort));
  }
  return obs;
}
