/**
 * Carries out one scenario step: a client primitive through the agent, or a fault through
 * lib/faults. Steps act; they record what they did and when, and never judge it.
 *
 * @module
 */

import { monotonicMs } from "../libc/libc.ts";
import { icmpUnreachable } from "../faults/icmp_unreachable.ts";
import { expireNatNow, installNat } from "../faults/nat.ts";
import { delayLink } from "../faults/netem_link.ts";
import { reboot } from "../faults/reboot.ts";
import { resetFromHost } from "../faults/reset_from_host.ts";
import { slowLink } from "../faults/slow_link.ts";
import { FaultUnsupported } from "../faults/unsupported.ts";
import { vanish } from "../faults/vanish.ts";
import { vanishAfterSyn } from "../faults/vanish_after_syn.ts";
import { findServerFd } from "../observe/socket_watch.ts";
import { processTree } from "../observe/process_tree.ts";
import { readSocketOptions } from "../observe/socket_options.ts";
import { watchSocket } from "../observe/socket_watch.ts";
import { parseDuration } from "../time/duration.ts";
import type { FaultStep, Step } from "../suite/steps.ts";
import type { Exchange } from "../target/define_target.ts";
import type { StepRecord } from "./observations.ts";
import { HarnessError, NotApplicable, type ScenarioContext } from "./scenario_context.ts";

/** How long one ordinary exchange may take before the target counts as broken. */
const EXCHANGE_TIMEOUT_MS = 5000;
/**
 * The client's link while it keeps reading: a WAN-like rate far below the lab's own, so the
 * server is still sending, with data in flight and its window open, when the client goes down.
 */
const READING_LINK_KBIT = 2000;
/** Connections the churn step opens at a time. */
const CHURN_BATCH = 50;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function record(ctx: ScenarioContext, entry: StepRecord): void {
  ctx.obs.steps.push(entry);
}

function conn(ctx: ScenarioContext, step: string): number {
  if (ctx.conn === undefined) {
    throw new HarnessError(`Step "${step}" needs a connection: put connect() before it`);
  }
  return ctx.conn;
}

function largeRequest(ctx: ScenarioContext): { send: string; responseBytes: number } {
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
  label: string,
  request: Exchange = ctx.target.protocol.request,
): Promise<StepRecord> {
  const sent = await ctx.agent.send(id, request.send, { timeoutMs: EXCHANGE_TIMEOUT_MS });
  if (!sent.ok) return { label, t: sent.t, ok: false, error: sent.error, traffic: true };
  const read = await ctx.agent.read(id, { until: request.until, timeoutMs: EXCHANGE_TIMEOUT_MS });
  if (read.ok && read.found) return { label, t: read.t, ok: true, traffic: true };
  const error = read.ok ? (read.eof ? "EOF" : "response incomplete") : read.error;
  return { label, t: read.t, ok: false, error, traffic: true };
}

async function connectUnderTest(ctx: ScenarioContext, rcvBuf: number | undefined): Promise<void> {
  const out = await ctx.agent.connect({
    address: ctx.server.address,
    port: ctx.server.port,
    ...(rcvBuf === undefined ? {} : { rcvBuf }),
    timeoutMs: EXCHANGE_TIMEOUT_MS,
  });
  if (!out.ok) throw new HarnessError(`Could not connect to the target: ${out.error}`);
  ctx.conn = out.conn;
  ctx.localPort = out.local.port;
  ctx.obs.clientPort = out.local.port;
  record(ctx, { label: "connect", t: out.t, ok: true, traffic: true });
  const peer = { address: ctx.clientAddressSeen, port: out.local.port };
  ctx.watch = watchSocket(ctx.server.pid, peer, {
    localPort: ctx.server.port,
    intervalMs: 15,
    holders: processTree(ctx.server.pid),
  });
  // The server accepts in its own time; its options can be read once it holds the socket.
  const until = monotonicMs() + 2000;
  while (monotonicMs() < until && !readServerOptions(ctx)) await sleep(10);
}

/**
 * Reads the server socket's options through pidfd_getfd, from whichever process of the server
 * holds it; false when none does yet. Read again just before the fault, as a server may set
 * them only after accepting (sshd's child) or hand the socket on (a listener's worker).
 */
export function readServerOptions(ctx: ScenarioContext): boolean {
  if (ctx.localPort === undefined) return false;
  const peer = { address: ctx.clientAddressSeen, port: ctx.localPort };
  for (const pid of processTree(ctx.server.pid)) {
    const found = findServerFd(pid, peer, ctx.server.port);
    if (!found) continue;
    try {
      ctx.obs.socketOptions = readSocketOptions(pid, found.fd);
      return true;
    } catch {
      // The fd was closed or reused between the lookup and the read: look again.
    }
  }
  return false;
}

/** The target's greeting on a new connection, when it has one and the step wants it. */
async function greetOn(
  ctx: ScenarioContext,
  id: number | undefined,
  wanted: boolean,
): Promise<void> {
  const greeting = ctx.target.protocol.greeting;
  if (!greeting || !wanted || id === undefined) return;
  const done = await exchangeOn(ctx, id, "greeting", greeting);
  if (!done.ok) throw new HarnessError(`The target did not answer its greeting: ${done.error}`);
  record(ctx, done);
}

/**
 * Opens `clients` connections, each with one exchange. A connection the server refuses or
 * drops (its own connection limit) is a finding, counted, not a harness failure.
 */
async function churn(ctx: ScenarioContext, wanted: number, then: "abort" | "vanish" | "crash") {
  const ids: number[] = [];
  let refused = 0;
  for (let start = 0; start < wanted; start += CHURN_BATCH) {
    const batch = Array.from({ length: Math.min(CHURN_BATCH, wanted - start) }, async () => {
      const out = await ctx.agent.connect({
        address: ctx.server.address,
        port: ctx.server.port,
        timeoutMs: EXCHANGE_TIMEOUT_MS,
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
  record(ctx, {
    label: `churn: ${clients} clients connected${
      refused ? `, ${refused} refused or dropped by the server` : ""
    }`,
    t: monotonicMs(),
    ok: true,
    traffic: true,
  });
  ctx.obs.churn = { opened: clients, refused };
  if (then === "abort") {
    await Promise.all(ids.map((id) => ctx.agent.abort(id)));
    record(ctx, { label: `churn: ${clients} clients reset`, t: monotonicMs(), ok: true });
  } else if (then === "crash") {
    record(ctx, {
      label: `churn: client process with ${clients} connections killed`,
      t: await ctx.agent.crash(),
      ok: true,
    });
  } else {
    const gone = unwrap(await vanish(ctx.lab));
    ctx.healable = gone.heal;
    record(ctx, { label: `churn: ${clients} clients vanished`, t: gone.t, ok: true });
  }
}

async function applyFault(ctx: ScenarioContext, fault: FaultStep): Promise<StepRecord> {
  const label = `fault: ${fault.name}`;
  switch (fault.name) {
    case "vanish": {
      const gone = unwrap(await vanish(ctx.lab));
      ctx.healable = gone.heal;
      return { label, t: gone.t, ok: true };
    }
    case "vanish-after-syn": {
      const gone = unwrap(await vanishAfterSyn(ctx.lab));
      ctx.healable = gone.heal;
      return { label, t: gone.t, ok: true };
    }
    case "heal": {
      if (!ctx.healable) {
        throw new HarnessError('Step "heal" needs a vanish or ICMP fault before it');
      }
      const t = await ctx.healable();
      ctx.healable = undefined;
      return { label, t, ok: true };
    }
    case "reboot": {
      const done = unwrap(await reboot(ctx.lab, { serverPort: ctx.server.port }));
      return { label: `${label} (${done.destroyed} socket(s) forgotten)`, t: done.t, ok: true };
    }
    case "nat": {
      const timeoutS = Math.max(1, Math.round(parseDuration(fault.timeout) / 1000));
      const nat = unwrap(
        await installNat(ctx.lab, { establishedTimeoutS: timeoutS, strays: fault.strays }),
      );
      ctx.clientAddressSeen = nat.publicAddress;
      ctx.obs.natTimeoutMs = timeoutS * 1000;
      return {
        label: `${label} (timeout ${timeoutS} s, strays ${fault.strays})`,
        t: nat.t,
        ok: true,
      };
    }
    case "nat-expire": {
      const done = unwrap(await expireNatNow(ctx.lab));
      return { label: `${label} (${done.deleted} mapping(s) forgotten)`, t: done.t, ok: true };
    }
    case "icmp-unreachable": {
      const icmp = unwrap(await icmpUnreachable(ctx.lab, { kind: fault.kind }));
      ctx.healable = icmp.remove;
      return { label: `${label} (${fault.kind})`, t: icmp.t, ok: true };
    }
    case "reset-from-host": {
      const done = unwrap(
        await resetFromHost(ctx.lab, {
          serverPort: ctx.server.port,
          ...(ctx.localPort === undefined ? {} : { localPort: ctx.localPort }),
        }),
      );
      return { label, t: done.t, ok: true };
    }
    case "slow-link": {
      const shaped = unwrap(await slowLink(ctx.lab, { rateKbit: fault.rateKbit }));
      return { label: `${label} (${fault.rateKbit} kbit/s)`, t: shaped.t, ok: true };
    }
    case "latency": {
      const shaped = unwrap(await delayLink(ctx.lab, { delayMs: parseDuration(fault.delay) }));
      return { label, t: shaped.t, ok: true };
    }
  }
}

/** Carries out `step`; throws FaultUnsupported (skip) or HarnessError (error). */
export async function executeStep(ctx: ScenarioContext, step: Step): Promise<void> {
  const { protocol } = ctx.target;
  switch (step.kind) {
    case "connect":
      await connectUnderTest(ctx, step.rcvBuf);
      return await greetOn(ctx, ctx.conn, step.greet !== false);
    case "exchange": {
      const done = await exchangeOn(ctx, conn(ctx, step.kind), "exchange");
      if (!done.ok) {
        throw new HarnessError(
          `The target did not answer its request before the fault: ${done.error}`,
        );
      }
      return record(ctx, done);
    }
    case "send-request":
    case "send-partial":
    case "request-large": {
      const data = step.kind === "send-request"
        ? protocol.request.send
        : step.kind === "send-partial"
        ? protocol.partialRequest
        : largeRequest(ctx).send;
      const out = await ctx.agent.send(conn(ctx, step.kind), data, {
        timeoutMs: EXCHANGE_TIMEOUT_MS,
      });
      if (!out.ok) throw new HarnessError(`Step "${step.kind}" failed: ${out.error}`);
      return record(ctx, { label: step.kind, t: out.t, ok: true, traffic: true });
    }
    case "read-response": {
      const out = await ctx.agent.read(conn(ctx, step.kind), {
        until: protocol.request.until,
        timeoutMs: Math.min(ctx.deadlineMs, 30_000),
      });
      ctx.obs.response = {
        found: out.ok && out.found,
        bytes: out.bytes,
        ...(out.ok ? {} : { error: out.error }),
      };
      return record(ctx, { label: step.kind, t: out.t, ok: out.ok && out.found, traffic: true });
    }
    case "keep-reading": {
      const id = conn(ctx, step.kind);
      const link = unwrap(await slowLink(ctx.lab, { rateKbit: READING_LINK_KBIT }));
      ctx.background = ctx.agent.read(id, {
        bytes: largeRequest(ctx).responseBytes,
        timeoutMs: ctx.deadlineMs + 10_000,
      }).catch(() => undefined); // the agent may be crashed meanwhile: that is the point
      // Let data flow before the next step takes the client down.
      await sleep(200);
      return record(ctx, {
        label: `client reading at ${READING_LINK_KBIT} kbit/s`,
        t: link.t,
        ok: true,
        traffic: true,
      });
    }
    case "stop-reading": {
      const id = conn(ctx, step.kind);
      if (!ctx.background) {
        return record(ctx, { label: "client stops reading", t: monotonicMs(), ok: true });
      }
      const out = await ctx.agent.stopReading(id);
      return record(ctx, {
        label: "client stops reading",
        t: out.t,
        ok: out.ok,
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
      return record(ctx, {
        label: step.kind,
        t: out.t,
        ok: out.ok,
        ...(out.ok ? {} : { error: out.error }),
      });
    }
    case "crash":
      return record(ctx, { label: "crash (SIGKILL)", t: await ctx.agent.crash(), ok: true });
    case "freeze":
      return record(ctx, { label: "freeze (SIGSTOP)", t: await ctx.agent.freeze(), ok: true });
    case "thaw":
      return record(ctx, { label: "thaw (SIGCONT)", t: await ctx.agent.thaw(), ok: true });
    case "wait":
      await sleep(Math.min(parseDuration(step.duration), ctx.deadlineMs));
      return record(ctx, { label: `waited ${step.duration}`, t: monotonicMs(), ok: true });
    case "churn":
      return await churn(ctx, step.clients, step.then);
    case "fault":
      return record(ctx, await applyFault(ctx, step.fault));
  }
}
