/**
 * One scenario, start to end: its own lab and server, the observers, the steps (each run in
 * full), the wait for the server's reaction (bounded by the deadline), and teardown in
 * `finally`. Each observer and step returns its record; the observations are assembled once,
 * at the end (observed.ts). Evaluation happens elsewhere.
 *
 * @module
 */

import { NotApplicable } from "../actions/action.ts";
import { actionFor, isDownStep, type Step } from "../actions/registry.ts";
import { ClientAgent } from "../client/client_agent.ts";
import { EXCHANGE_MS, exchangeOn } from "../client/exchange.ts";
import { LivenessProbe } from "../client/liveness_probe.ts";
import { FaultUnsupported, unsupportedFault } from "../faults/unsupported.ts";
import { CLIENT } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { type Capture, startCapture } from "../observe/capture.ts";
import { runningKernelHz } from "../observe/kernel_hz.ts";
import { readNatMappings } from "../observe/nat_mappings.ts";
import type {
  ExchangeRecord,
  Observations,
  RunOutcome,
  StepRecord,
} from "../observe/observations.ts";
import { processTree } from "../process/process_tree.ts";
import {
  clientConnections,
  type ProcessExit,
  recordExit,
  residentKiB,
  sampleServer,
  type ServerSample,
} from "../observe/server_process.ts";
import { readTcpSysctls } from "../observe/socket_options.ts";
import type { SocketEntry } from "../observe/proc_net_tcp.ts";
import { connectionLookup } from "../observe/connection_lookup.ts";
import { NETLINK_SOCK_DIAG } from "../libc/netlink.ts";
import { CLOSED_BY_SERVER, watchSocket } from "../observe/socket_watch.ts";
import type { SocketOptions } from "../results/schema.ts";
import type { Scenario } from "../suite/define_suite.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import { type RunningTarget, startTarget } from "../target/start_target.ts";
import { sleepUnless } from "../time/sleep_unless.ts";
import { verifierOf } from "../evaluate/verifiers/registry.ts";
import { capturedMoment, type FaultMoment, segmentMoment, stepMoment } from "./fault_moment.ts";
import { assembleObservations, type SetupRecord, type TeardownRecord } from "./observed.ts";
import { Gate } from "./pool.ts";
import { runStep } from "./run_step.ts";
import type { ScenarioContext } from "./scenario_context.ts";
import { readServerOptions } from "./server_options.ts";
import { OBSERVE_MS, type TimePlan, timePlan, waitAfterSteps } from "./time_plan.ts";

/** How often the wait loop looks at what it waits for. */
const POLL_MS = 25;
/**
 * How often it counts the server's client connections when asked: the count only ends the wait
 * early (the verdict reads the samples before and after), so a later look costs nothing.
 */
const COUNT_EVERY_MS = 250;
/** Bystander probing: one exchange this often, each given this long. */
const LIVENESS = { intervalMs: 500, timeoutMs: 1000 };
/** The server's own words kept as evidence: the last lines of its output, at most this long. */
const LOG_TAIL = { lines: 20, chars: 4000 };
/** How long connecting waits at most for the server to hold the socket, to read its options. */
const OPTIONS_WAIT_MS = 2000;

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
  return ctx.serverSocket ? ctx.serverSocket() : "unconnected";
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

/** What the wait after the steps observed: when it began, how long it meant to wait. */
interface WaitRecord {
  stepsEndedAt: number;
  waitPlannedMs: number;
  /** The survival check's answer, and its exchange when it made one. */
  survived?: NonNullable<ExchangeRecord["survived"]>;
  exchange?: StepRecord;
}

/** Waits after the steps until every expectation has what it needs, the deadline, or a death. */
async function waitForServer(
  ctx: ScenarioContext,
  scenario: Scenario,
  faultAt: number | undefined,
  before: ServerSample | undefined,
  report: WaitReporter,
): Promise<WaitRecord> {
  const start = monotonicMs();
  const waitMs = waitAfterSteps(ctx.plan, faultAt, start);
  const waited = { stepsEndedAt: start, waitPlannedMs: waitMs };
  const kinds = new Set(scenario.expect.map((e) => e.kind));
  report(
    kinds.has("released")
      ? "the server to release the connection"
      : kinds.has("survives")
      ? "the outage to pass"
      : "the server",
  );
  const atFault = before?.clientConnections;
  // Counted only when a verifier asks, and at most every COUNT_EVERY_MS: reading every fd of the
  // server's processes is the costly part of a poll.
  let counted: { at: number; n: number } | undefined;
  const pid = ctx.server.pid;
  // The memory of the processes there at the fault (a worker started since is not counted).
  const kept = before?.processes ?? [];
  let weighed: { at: number; kib: number } | undefined;
  const live = {
    faultAt,
    socket: ctx.watch?.events ?? [],
    clientConnections: {
      get now() {
        const at = monotonicMs();
        if (!counted || at - counted.at >= COUNT_EVERY_MS) {
          counted = { at, n: clientConnections(processTree(pid)) };
        }
        return counted.n;
      },
      atFault,
    },
    memory: before === undefined ? undefined : {
      get nowKiB() {
        const at = monotonicMs();
        if (!weighed || at - weighed.at >= COUNT_EVERY_MS) {
          weighed = { at, kib: kept.reduce((sum, p) => sum + residentKiB(p.pid), 0) };
        }
        return weighed.kib;
      },
      atFaultKiB: kept.reduce((sum, p) => sum + p.rssKiB, 0),
    },
  };
  while (monotonicMs() - start < waitMs && !ctx.server.child.exited && !ctx.signal.aborted) {
    const sinceFault = monotonicMs() - (faultAt ?? start);
    const pending = scenario.expect.some((e) => {
      const v = verifierOf(e.kind);
      return v !== undefined && sinceFault < v.watchMs(e as never) &&
        !v.settled(e as never, live);
    });
    if (!pending && sinceFault >= OBSERVE_MS) break;
    await sleepUnless(POLL_MS, ctx.signal);
  }
  if (!kinds.has("survives") || ctx.signal.aborted) return waited;
  return { ...waited, ...await survivalCheck(ctx) };
}

/** Whether the connection under test is still usable: an exchange, or both ends' state. */
async function survivalCheck(
  ctx: ScenarioContext,
): Promise<Pick<WaitRecord, "survived" | "exchange">> {
  const at = monotonicMs();
  if (ctx.conn === undefined) return { survived: { ok: false, error: "no connection", at } };
  if (ctx.server.child.exited) return { survived: { ok: false, error: "server exited", at } };
  // Behind a NAT the mapping is what must survive: the client's own next packet would make a
  // new one, so the exchange below cannot tell. Look at the NAT first (whether the server had
  // closed the connection while the mapping lived is for evaluation to say, from the capture).
  if (
    ctx.natTimeoutMs !== undefined && !await unsupportedFault("nat-mappings", ["conntrack"])
  ) {
    const mappings = await readNatMappings(ctx.lab);
    const port = ctx.clientPort;
    if (!mappings.some((m) => m.original.sport === port && m.original.dport === ctx.server.port)) {
      const error = "the NAT forgot the connection's mapping";
      return { survived: { ok: false, error, natForgot: true, at } };
    }
  }
  if (ctx.target.protocol.oneRequestPerConnection) {
    // Nothing can be asked again on this connection: its state is the evidence.
    const info = await ctx.agent.info(ctx.conn);
    const server = ctx.watch?.events.at(-1);
    const up = info.ok && info.state === "ESTABLISHED" && server?.holding === "held" &&
      server.state === "ESTABLISHED";
    return {
      survived: up ? { ok: true, byState: true, at } : {
        ok: false,
        error: `connection state ${info.ok ? info.state : info.error} / ${
          server?.state ?? "unknown"
        }`,
        at,
      },
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
    ctx.agent,
    ctx.conn,
    "exchange",
    ctx.target.protocol.request,
    EXCHANGE_MS + pendingMs,
  );
  return {
    survived: { ok: done.ok, ...(done.error ? { error: done.error } : {}), at: done.t },
    exchange: done,
  };
}

/** The parts of a running scenario, each there once it has started. */
interface Parts {
  lab?: Awaited<ReturnType<typeof createLab>>;
  server?: RunningTarget;
  agent?: ClientAgent;
  capture?: Capture;
  liveness?: LivenessProbe;
  /** The server's exit, when it ended by itself during the scenario (not at teardown). */
  exited?: Promise<ProcessExit | undefined>;
  ctx?: ScenarioContext;
}

/** Whether the client must be a process a step can kill or stop (see ClientAgent's holder). */
function needsHolder(steps: readonly Step[]): boolean {
  return steps.some((step) => actionFor(step).needsHolder(step));
}

/** A started scenario's parts and what starting it learned, or why it could not start. */
type SetUp =
  & { record: SetupRecord }
  & (
    | { ready: { lab: NonNullable<Parts["lab"]>; server: RunningTarget; agent: ClientAgent } }
    | { failed: unknown }
  );

async function setUp(
  target: TargetDefinition,
  scenario: Scenario,
  parts: Parts,
  report: WaitReporter,
  isStopping: () => boolean,
): Promise<SetUp> {
  const family = scenario.family ?? "v4";
  const record: SetupRecord = { harness: { labUpMs: 0, targetReadyMs: 0 } };
  try {
    let t = monotonicMs();
    report("the lab");
    const lab = parts.lab = await createLab();
    record.harness.labUpMs = monotonicMs() - t;
    t = monotonicMs();
    report("the target to listen");
    const sysctls = readTcpSysctls(lab.hosts.server);
    const kernelHz = runningKernelHz();
    // The capture starts beside the target (it filters by the target's port only), so it
    // listens before the first connection. All three are waited for, even when one fails:
    // teardown ends what the others started.
    const [server, agent, captured] = settledOrThrow(
      await Promise.allSettled([
        startTarget(target, lab, family).then((s) => parts.server = s),
        ClientAgent.start(lab, { holder: needsHolder(scenario.steps) }).then((a) =>
          parts.agent = a
        ),
        startCapture(lab, { iface: "r1", port: target.port }).then((c) => {
          if (c.available) parts.capture = c;
          return c;
        }),
      ]),
    );
    record.harness.targetReadyMs = monotonicMs() - t;
    record.sysctls = sysctls;
    const hz = await kernelHz;
    if (hz !== undefined) record.kernelHz = hz;
    parts.exited = recordExit(server.child).then((exit) => isStopping() ? undefined : exit);
    if (!captured.available) record.noCapture = captured.reason;
    if (scenario.expect.some((e) => verifierOf(e.kind)?.needsBystander)) {
      record.bystanderTimeoutMs = LIVENESS.timeoutMs;
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
    return { record, ready: { lab, server, agent } };
  } catch (failed) {
    return { record, failed };
  }
}

/** The values of promises that all settled, or the first one's rejection. */
function settledOrThrow<T extends readonly unknown[]>(
  results: { -readonly [K in keyof T]: PromiseSettledResult<T[K]> },
): T {
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
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

async function tearDown(parts: Parts): Promise<TeardownRecord> {
  const t = monotonicMs();
  // The capture and the client end beside the bystander; the server only after the bystander:
  // stopping it under the bystander would count as a stall.
  const liveness = parts.liveness;
  const capturedAndClient = Promise.allSettled([parts.capture?.stop(), parts.agent?.stop()]);
  const [probed] = await Promise.allSettled([liveness?.stop()]);
  const [serverEnded] = await Promise.allSettled([parts.server?.stop()]);
  const [captured, clientEnded] = await capturedAndClient;
  const ended = [clientEnded, serverEnded];
  // The server's own words, read before its lab directory goes.
  const log = parts.server ? await logTail(parts.server.logPath) : undefined;
  await parts.lab?.teardown();
  // What was observed stands; a hiccup while ending the helpers is worth a note only.
  const failed = [probed, captured, ...ended].filter((r): r is PromiseRejectedResult =>
    r?.status === "rejected"
  );
  // A bystander that failed to end cleanly: the exchanges it recorded still stand.
  const bystander = probed?.status === "fulfilled" ? probed.value : liveness?.samples;
  return {
    ms: monotonicMs() - t,
    ...(captured?.status === "fulfilled" && captured.value ? { captured: captured.value } : {}),
    ...(bystander ? { bystander: [...bystander] } : {}),
    ...(log ? { log } : {}),
    ...(failed.length
      ? { note: `Teardown: ${failed.map((f) => String(f.reason)).join("; ")}` }
      : {}),
  };
}

/** The first capability the scenario's steps need that this machine lacks, if any. */
async function missingCapability(scenario: Scenario): Promise<FaultUnsupported | undefined> {
  for (const step of scenario.steps) {
    const needs = actionFor(step).needs(step);
    if (!needs.length) continue;
    const unsupported = await unsupportedFault(actionFor(step).name(step), needs);
    if (unsupported) return unsupported;
  }
  return undefined;
}

/** How the scenario ended, from what it threw (nothing: completed). */
function outcomeOf(thrown: { error: unknown } | undefined, signal: AbortSignal): RunOutcome {
  if (signal.aborted) {
    return { kind: "interrupted", reason: String(signal.reason ?? "interrupted") };
  }
  if (thrown === undefined) return { kind: "completed" };
  const { error } = thrown;
  if (error instanceof FaultUnsupported) return { kind: "unsupported", reason: error.reason };
  if (error instanceof NotApplicable) return { kind: "not-applicable", reason: error.message };
  return {
    kind: "harness-error",
    message: error instanceof Error ? error.message : String(error),
  };
}

/** How the fault's moment was taken, without the moment itself. */
function momentRecord({ askedAt, source, toleranceMs }: FaultMoment) {
  return { askedAt, source, toleranceMs };
}

/** The value of a promise that has settled by now, else undefined. */
function settledValue<T>(promise: Promise<T> | undefined): Promise<T | undefined> {
  return promise ? Promise.race([promise, Promise.resolve(undefined)]) : Promise.resolve(undefined);
}

/**
 * Runs one scenario against a fresh instance of `target` and returns what was observed.
 * Setting up (processes start, namespaces are made) is CPU-bound: `startGate` lets only a few
 * scenarios do it at once, so many can wait at once without starving each other's start.
 * When `signal` aborts, the scenario stops where it is, tears down, and is `interrupted`.
 * `onDown` is called once the client has gone down (the first step that takes it down has
 * acted), or once the steps end without one: from then on the scenario only watches.
 */
export async function runScenario(
  target: TargetDefinition,
  scenario: Scenario,
  deadlineMs: number,
  report: WaitReporter = () => {},
  startGate: Gate = new Gate(1),
  signal: AbortSignal = new AbortController().signal,
  onDown: () => void = () => {},
): Promise<Observations> {
  const plan: TimePlan = timePlan(scenario, deadlineMs);
  const family = scenario.family ?? "v4";
  const parts: Parts = {};
  let stopping = false; // the server's exit at teardown or interrupt is ours, not the scenario's
  signal.addEventListener("abort", () => stopping = true, { once: true });
  // What the steps did and learned, in order; the runner's own moments.
  const steps: StepRecord[] = [];
  let response: ExchangeRecord["response"];
  let churn: ExchangeRecord["churn"];
  let askedAt: number | undefined; // when the runner asked for the first step taking the client down
  let moment: FaultMoment | undefined; // when that step took effect, by its own report
  let downBySegment = false; // that step's moment is its FIN or RST, read from the capture
  let lastTrafficAt: number | undefined;
  let before: ServerSample | undefined;
  let options: SocketOptions | undefined;
  let waited: WaitRecord | undefined;
  let setup: SetupRecord = { harness: { labUpMs: 0, targetReadyMs: 0 } };
  let thrown: { error: unknown } | undefined;
  try {
    const unsupported = await missingCapability(scenario);
    if (unsupported) throw unsupported;
    const started = await startGate.through(() =>
      setUp(target, scenario, parts, report, () => stopping)
    );
    setup = started.record;
    if ("failed" in started) throw started.failed;
    const { lab, server, agent } = started.ready;
    const ctx: ScenarioContext = parts.ctx = {
      lab,
      target,
      server,
      family,
      agent,
      plan,
      signal,
      clientAddressSeen: CLIENT[family],
      undoable: [],
    };
    // The socket watch starts as soon as the connection under test is open.
    const connected = async (conn: number, clientPort: number) => {
      ctx.conn = conn;
      ctx.clientPort = clientPort;
      const peer = { address: ctx.clientAddressSeen, port: clientPort };
      const lookup = connectionLookup(
        lab.netlink("server", NETLINK_SOCK_DIAG),
        { address: server.address, port: server.port },
        peer,
      );
      ctx.serverSocket = lookup;
      ctx.watch = watchSocket(server.pid, peer, {
        localPort: server.port,
        intervalMs: 15,
        holders: processTree(server.pid),
        lifetimeMs: plan.scenarioMs,
        lookup,
      });
      // The server accepts in its own time; its options can be read once it holds the socket.
      const until = monotonicMs() + OPTIONS_WAIT_MS;
      while (monotonicMs() < until) {
        const read = readServerOptions(ctx);
        if (read) {
          options = read;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    for (const step of scenario.steps) {
      if (signal.aborted) break;
      if (isDownStep(step) && askedAt === undefined) {
        if (QUIET_PHASES.has(scenario.phase)) await untilAcknowledged(ctx);
        requireConnectionToSurvive(ctx, scenario);
        options = readServerOptions(ctx) ?? options;
        before = sampleServer(server.pid);
        lastTrafficAt = steps.filter((s) => s.traffic).at(-1)?.t;
        report(actionFor(step).name(step));
        // Until the step says when it took effect, the moment the runner asked stands.
        askedAt = monotonicMs();
        downBySegment = capturedMoment(step);
      }
      const done = await runStep(ctx, step, connected);
      steps.push(...done.records);
      if (done.response) response = done.response;
      if (done.churn) churn = done.churn;
      if (askedAt !== undefined && moment === undefined) {
        moment = stepMoment(askedAt, done.records);
        onDown();
      }
    }
    // No step took the client down (a NAT's timeout is the threat): asked when the steps end.
    if (askedAt === undefined) requireConnectionToSurvive(ctx, scenario);
    onDown();
    if (!signal.aborted) {
      waited = await waitForServer(ctx, scenario, moment?.at ?? askedAt, before, report);
      if (waited.exchange) steps.push(waited.exchange);
    }
  } catch (error) {
    thrown = { error };
  }
  const endAt = monotonicMs();
  stopping = true;
  const outcome = outcomeOf(thrown, signal);
  const after = parts.server && !parts.server.child.exited
    ? sampleServer(parts.server.pid)
    : undefined;
  const socket = parts.ctx?.watch?.stop() ?? [];
  const teardown = await tearDown(parts);
  // tcpdump, its capture read, is still closing its socket (see Capture.exited): its scenario
  // ends once it has exited, so that nothing of the scenario outlives it.
  await parts.capture?.exited.catch(() => {});
  const exit = await settledValue(parts.exited);
  const ctx = parts.ctx;
  if (downBySegment && moment) {
    moment = segmentMoment(moment, teardown.captured?.packets ?? [], ctx?.clientPort);
  }
  const faultAt = moment?.at ?? askedAt;
  return assembleObservations({
    deadlineMs,
    setup,
    run: {
      outcome,
      ...(faultAt === undefined ? {} : { faultAt }),
      ...(moment ? { faultMoment: momentRecord(moment) } : {}),
      ...(lastTrafficAt === undefined ? {} : { lastTrafficAt }),
      ...(waited ? { stepsEndedAt: waited.stepsEndedAt } : {}),
      endAt,
      waitPlannedMs: waited?.waitPlannedMs ?? 0,
      ...(ctx?.natTimeoutMs === undefined ? {} : { natTimeoutMs: ctx.natTimeoutMs }),
    },
    steps,
    exchanges: {
      ...(waited?.survived ? { survived: waited.survived } : {}),
      ...(response ? { response } : {}),
      ...(churn ? { churn } : {}),
    },
    connection: {
      ...(ctx?.clientPort === undefined ? {} : { clientPort: ctx.clientPort }),
      socket,
      ...(options ? { options } : {}),
    },
    server: {
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
      ...(exit ? { exit } : {}),
    },
    teardown,
  });
}
