/**
 * Carries out one scenario step: a client primitive through the ClientAgent, or a fault through
 * lib/faults. Steps act; they record what they did and when, and never judge it.
 *
 * @module
 */

import { faultNamed } from "../faults/registry.ts";
import { FaultUnsupported } from "../faults/unsupported.ts";
import { slowLink } from "../faults/slow_link.ts";
import { vanish } from "../faults/vanish.ts";
import { monotonicMs } from "../libc/libc.ts";
import type { StepRecord } from "../observe/observations.ts";
import { processTree } from "../process/process_tree.ts";
import { readSocketOptions } from "../observe/socket_options.ts";
import { findServerFd, watchSocket } from "../observe/socket_watch.ts";
import { parseDuration } from "../time/duration.ts";
import type { FaultStep, Step } from "../suite/steps.ts";
import type { Exchange, TargetProtocol } from "../target/define_target.ts";
import { HarnessError, NotApplicable, type ScenarioContext } from "./scenario_context.ts";
import { EXCHANGE_MS, READ_RESPONSE_MS } from "./time_plan.ts";

/**
 * The client's link while it keeps reading: a WAN-like rate far below the lab's own, so the
 * server is still sending, with data in flight and its window open, when the client goes down.
 */
const READING_LINK_KBIT = 2000;
/**
 * Connections the churn step opens, or resets, at a time: 500 SYNs at once would overflow a
 * server's listen backlog (often 128 or 511), and each dropped SYN costs a 1 s retransmission.
 */
const CHURN_BATCH = 50;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sleeps `ms`, or less when `signal` aborts first. */
export function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

function conn(ctx: ScenarioContext, step: string): number {
  if (ctx.conn === undefined) {
    throw new HarnessError(`Step "${step}" needs a connection: put connect() before it`);
  }
  return ctx.conn;
}

function largeRequest(ctx: ScenarioContext): NonNullable<TargetProtocol["largeRequest"]> {
  const large = ctx.target.protocol.largeRequest;
  if (!large) {
    throw new NotApplicable(`Target "${ctx.target.id}" has no request with a large response`);
  }
  return large;
}

function unwrap<T>(result: T | FaultUnsupported): T {
  if (result instanceof FaultUnsupported) throw result;
  return result;
}

/** Sends a request (default: the target's small one) on `id` and reads its response. */
export async function exchangeOn(
  ctx: ScenarioContext,
  id: number,
  action: string,
  request: Exchange = ctx.target.protocol.request,
  timeoutMs: number = EXCHANGE_MS,
): Promise<StepRecord> {
  const base = { actor: "client" as const, action, traffic: true };
  const sent = await ctx.agent.send(id, request.send, { timeoutMs: EXCHANGE_MS });
  if (!sent.ok) return { ...base, t: sent.t, ok: false, error: sent.error };
  const read = await ctx.agent.read(id, { until: request.until, timeoutMs });
  if (read.ok && read.found) return { ...base, t: read.t, ok: true };
  const error = read.ok ? (read.eof ? "EOF" : "response incomplete") : read.error;
  return { ...base, t: read.t, ok: false, error };
}

async function connectUnderTest(
  ctx: ScenarioContext,
  rcvBuf: number | undefined,
): Promise<StepRecord> {
  const out = await ctx.agent.connect({
    address: ctx.server.address,
    port: ctx.server.port,
    ...(rcvBuf === undefined ? {} : { rcvBuf }),
    timeoutMs: EXCHANGE_MS,
  });
  if (!out.ok) throw new HarnessError(`Could not connect to the target: ${out.error}`);
  ctx.conn = out.conn;
  ctx.connection.clientPort = out.local.port;
  const peer = { address: ctx.clientAddressSeen, port: out.local.port };
  ctx.watch = watchSocket(ctx.server.pid, peer, {
    localPort: ctx.server.port,
    intervalMs: 15,
    holders: processTree(ctx.server.pid),
    lifetimeMs: ctx.plan.scenarioMs,
  });
  ctx.connection.socket = ctx.watch.events as typeof ctx.connection.socket;
  // The server accepts in its own time; its options can be read once it holds the socket.
  const until = monotonicMs() + 2000;
  while (monotonicMs() < until && !readServerOptions(ctx)) await sleep(10);
  return { actor: "client", action: "connect", t: out.t, ok: true, traffic: true };
}

/**
 * Reads the server socket's options through pidfd_getfd, from whichever process of the server
 * holds it; false when none does yet. Read again just before the fault, as a server may set
 * them only after accepting (sshd's child) or hand the socket on (a listener's worker).
 */
export function readServerOptions(ctx: ScenarioContext): boolean {
  const port = ctx.connection.clientPort;
  if (port === undefined) return false;
  const peer = { address: ctx.clientAddressSeen, port };
  for (const pid of processTree(ctx.server.pid)) {
    const found = findServerFd(pid, peer, ctx.server.port);
    if (!found) continue;
    try {
      ctx.connection.options = readSocketOptions(pid, found.fd);
      return true;
    } catch {
      // The fd was closed or reused between the lookup and the read: look again.
    }
  }
  return false;
}

/** The target's greeting on a new connection, when it has one and the step wants it. */
async function greetOn(ctx: ScenarioContext, id: number): Promise<StepRecord | undefined> {
  const greeting = ctx.target.protocol.greeting;
  if (!greeting) return undefined;
  const done = await exchangeOn(ctx, id, "greeting", greeting);
  if (!done.ok) throw new HarnessError(`The target did not answer its greeting: ${done.error}`);
  return done;
}

/**
 * Opens `clients` connections, each with one exchange, then takes them all down. A
 * connection the server refuses or drops (its own connection limit) is a finding, counted,
 * not a harness failure.
 */
async function churn(
  ctx: ScenarioContext,
  wanted: number,
  then: "abort" | "vanish" | "crash",
): Promise<StepRecord[]> {
  const ids: number[] = [];
  let refused = 0;
  for (let start = 0; start < wanted; start += CHURN_BATCH) {
    const batch = Array.from({ length: Math.min(CHURN_BATCH, wanted - start) }, async () => {
      const out = await ctx.agent.connect({
        address: ctx.server.address,
        port: ctx.server.port,
        timeoutMs: EXCHANGE_MS,
      });
      if (!out.ok) return refused++;
      const greeting = ctx.target.protocol.greeting;
      const greeted = greeting
        ? await exchangeOn(ctx, out.conn, "churn greeting", greeting)
        : undefined;
      const done = greeted && !greeted.ok
        ? greeted
        : await exchangeOn(ctx, out.conn, "churn exchange");
      if (!done.ok) return refused++;
      ids.push(out.conn);
    });
    await Promise.all(batch);
  }
  if (ids.length === 0) {
    throw new HarnessError(`Churn: the server accepted none of ${wanted} connections`);
  }
  const clients = ids.length;
  ctx.exchanges.churn = { opened: clients, refused };
  const connected: StepRecord = {
    actor: "client",
    action: "churn",
    detail: `${clients} clients connected${
      refused ? `, ${refused} refused or dropped by the server` : ""
    }`,
    t: monotonicMs(),
    ok: true,
    traffic: true,
  };
  if (then === "abort") {
    for (let start = 0; start < ids.length; start += CHURN_BATCH) {
      await Promise.all(ids.slice(start, start + CHURN_BATCH).map((id) => ctx.agent.abort(id)));
    }
    return [connected, {
      actor: "client",
      action: "churn",
      detail: `${clients} clients reset`,
      t: monotonicMs(),
      ok: true,
    }];
  }
  if (then === "crash") {
    return [connected, {
      actor: "client-host",
      action: "churn",
      detail: `client process with ${clients} connections killed`,
      t: await ctx.agent.crash(),
      ok: true,
    }];
  }
  const gone = unwrap(await vanish(ctx.lab));
  ctx.undoable.push(gone.undo);
  return [connected, {
    actor: "router",
    action: "churn",
    detail: `${clients} clients vanished`,
    t: gone.t,
    sentAt: gone.sentAt,
    ok: true,
  }];
}

async function applyFault(ctx: ScenarioContext, step: FaultStep): Promise<StepRecord> {
  const fault = faultNamed(step.name);
  if (!fault) throw new HarnessError(`Unknown fault "${step.name}"`);
  const done = unwrap(
    await fault.apply({
      lab: ctx.lab,
      serverPort: ctx.server.port,
      clientPort: ctx.connection.clientPort,
      natStrays: ctx.natStrays,
      undoLast: () => {
        const undo = ctx.undoable.pop();
        if (!undo) throw new HarnessError(`Fault "${step.name}" needs a fault to undo before it`);
        return undo();
      },
    }, step),
  );
  if (done.undo) ctx.undoable.push(done.undo);
  if (done.clientAddressSeen) ctx.clientAddressSeen = done.clientAddressSeen;
  if (done.natTimeoutMs !== undefined) ctx.natTimeoutMs = done.natTimeoutMs;
  if (done.natStrays) ctx.natStrays = done.natStrays;
  return {
    actor: step.name === "reset-from-host" ? "client-host" : "router",
    action: step.name,
    ...(done.detail ? { detail: done.detail } : {}),
    ...(done.peer ? { peer: done.peer } : {}),
    t: done.t,
    ...(done.sentAt === undefined ? {} : { sentAt: done.sentAt }),
    ok: true,
  };
}

/** Carries out `step` and returns what was done; throws FaultUnsupported (skip), NotApplicable (skip) or HarnessError (error). */
export async function executeStep(ctx: ScenarioContext, step: Step): Promise<StepRecord[]> {
  const { protocol } = ctx.target;
  const client = (action: string, t: number, more: Partial<StepRecord> = {}): StepRecord[] => [
    { actor: "client", action, t, ok: true, ...more },
  ];
  switch (step.kind) {
    case "connect": {
      const connected = await connectUnderTest(ctx, step.rcvBuf);
      const greeted = step.greet === false ? undefined : await greetOn(ctx, conn(ctx, "connect"));
      return greeted ? [connected, greeted] : [connected];
    }
    case "exchange": {
      const done = await exchangeOn(ctx, conn(ctx, step.kind), "exchange");
      if (!done.ok) {
        throw new HarnessError(
          `The target did not answer its request before the fault: ${done.error}`,
        );
      }
      return [done];
    }
    case "send-request":
    case "send-partial":
    case "request-large": {
      const data = step.kind === "send-request"
        ? protocol.request.send
        : step.kind === "send-partial"
        ? protocol.partialRequest
        : largeRequest(ctx).send;
      const out = await ctx.agent.send(conn(ctx, step.kind), data, { timeoutMs: EXCHANGE_MS });
      if (!out.ok) throw new HarnessError(`Step "${step.kind}" failed: ${out.error}`);
      return client(step.kind, out.t, { traffic: true });
    }
    case "read-response": {
      const out = await ctx.agent.read(conn(ctx, step.kind), {
        until: protocol.request.until,
        timeoutMs: READ_RESPONSE_MS,
      });
      ctx.exchanges.response = {
        found: out.ok && out.found,
        bytes: out.bytes,
        ...(out.ok ? {} : { error: out.error }),
      };
      return client(step.kind, out.t, { ok: out.ok && out.found, traffic: true });
    }
    case "keep-reading": {
      const id = conn(ctx, step.kind);
      const link = unwrap(await slowLink(ctx.lab, { rateKbit: READING_LINK_KBIT }));
      ctx.background = ctx.agent.read(id, {
        bytes: largeRequest(ctx).responseBytes,
        timeoutMs: ctx.plan.scenarioMs,
      }).catch(() => undefined); // the agent may be crashed meanwhile: that is the point
      // Let data flow before the next step takes the client down.
      await sleep(200);
      return client(step.kind, link.t, { detail: `${READING_LINK_KBIT} kbit/s`, traffic: true });
    }
    case "stop-reading": {
      const id = conn(ctx, step.kind);
      // Its kernel goes on ACKing, with a zero window once the buffer is full.
      if (!ctx.background) return client(step.kind, monotonicMs(), { peer: "answers" });
      const out = await ctx.agent.stopReading(id);
      return client(step.kind, out.t, {
        ok: out.ok,
        peer: "answers",
        ...(out.ok ? {} : { error: out.error }),
      });
    }
    case "half-close":
    case "close":
    case "abort": {
      const id = conn(ctx, step.kind);
      const out = step.kind === "half-close"
        ? await ctx.agent.halfClose(id)
        : step.kind === "close"
        ? await ctx.agent.close(id)
        : await ctx.agent.abort(id);
      // After a close or an abort the client's kernel answers the server's data with RST.
      return client(step.kind, out.t, {
        ok: out.ok,
        ...(step.kind === "half-close" ? {} : { peer: "resets" as const }),
        ...(out.ok ? {} : { error: out.error }),
      });
    }
    case "crash":
      return [{
        actor: "client-host",
        action: "crash",
        detail: "SIGKILL",
        t: await ctx.agent.crash(),
        ok: true,
        peer: "resets", // its kernel closed the sockets: RST to anything more
      }];
    case "freeze":
      return [{
        actor: "client-host",
        action: "freeze",
        detail: "SIGSTOP",
        t: await ctx.agent.freeze(),
        ok: true,
        peer: "answers", // a stopped process's kernel still ACKs and answers probes
      }];
    case "thaw":
      return [{
        actor: "client-host",
        action: "thaw",
        detail: "SIGCONT",
        t: await ctx.agent.thaw(),
        ok: true,
        peer: "answers",
      }];
    case "wait":
      // A step's duration is part of the scenario: it runs in full, whatever the deadline.
      await sleepUnless(parseDuration(step.duration), ctx.signal);
      return [{
        actor: "harness",
        action: "wait",
        detail: String(step.duration),
        t: monotonicMs(),
        ok: true,
      }];
    case "churn":
      return await churn(ctx, step.clients, step.then);
    case "fault":
      return [await applyFault(ctx, step.fault)];
  }
}
