/**
 * The evidence timeline of a scenario: steps, packets of the connection under test, what the
 * kernel showed of the server's socket, the bystander's failures and the server's own closes of
 * its connection, and the server's exit, in time order relative to the fault.
 *
 * @module
 */

import type { PacketEvent } from "../observe/capture.ts";
import type { SocketEvent } from "../observe/socket_watch.ts";
import type { TimelineEvent, TimelineKind } from "../results/schema.ts";
import { RETRANSMIT_TIMER, timerCount } from "../results/vocabulary.ts";
import { faultNamed } from "../faults/registry.ts";
import type { Observations, StepRecord } from "../observe/observations.ts";
import { packetsOf } from "./release_how.ts";

/** Events before the fault older than this are left out: the set-up is not the story. */
const BEFORE_FAULT_MS = 500;
/**
 * At most this many events, half from the start of the story and half from its end (a long
 * story loses its middle, never its end); the Markdown renderer folds runs further.
 */
const MAX_EVENTS = 400;

/** What a packet is, for the renderers (TIMELINE_KINDS). */
function packetKind(p: PacketEvent): TimelineKind {
  const retransmitted = p.kinds.includes("retransmission");
  if (p.kinds.includes("keepalive_probe") || p.kinds.includes("zero_window_probe")) {
    return "other-packet";
  }
  if (p.flags.includes("FIN") || p.flags.includes("RST")) {
    return retransmitted ? "close-retransmission" : "close";
  }
  if (p.flags.includes("SYN")) return retransmitted ? "other-packet" : "handshake";
  return p.length && !retransmitted && !p.kinds.includes("zero_window") ? "data" : "bulk";
}

/** A packet in words, or undefined for a plain ACK (the timeline's noise). */
function packetText(p: PacketEvent): string | undefined {
  if (p.kinds.includes("keepalive_probe")) return "keepalive probe";
  if (p.kinds.includes("zero_window_probe")) return "zero-window probe";
  const control = (["SYN", "FIN", "RST"] as const).filter((f) => p.flags.includes(f));
  const ack = p.flags.includes("ACK") && control.length > 0 && !control.includes("RST")
    ? "-ACK"
    : "";
  const base = control.length ? control.join("+") + ack : p.length ? "data" : undefined;
  if (p.kinds.includes("retransmission")) return `${base ?? "ACK"} retransmission`;
  if (p.kinds.includes("zero_window")) return `${base ?? "ACK"}, window 0`;
  return base;
}

/**
 * A TCP state as the timeline names it: the kernel's name, with what it means for a reader
 * (a raw state name alone tells most readers nothing).
 */
const STATE_WORDS: Record<string, string> = {
  ESTABLISHED: "ESTABLISHED",
  SYN_RECV: "SYN_RECV (handshake not finished)",
  FIN_WAIT1: "FIN_WAIT1 (the server's FIN not yet acknowledged)",
  FIN_WAIT2: "FIN_WAIT2 (the server's FIN acknowledged)",
  TIME_WAIT: "TIME_WAIT (both FINs exchanged)",
  CLOSE_WAIT: "CLOSE_WAIT (the peer's FIN received, the server not closed)",
  LAST_ACK: "LAST_ACK (the server's FIN after the peer's, not yet acknowledged)",
  CLOSING: "CLOSING (both FINs crossed)",
  CLOSE: "CLOSE (ended by the kernel)",
};

const HOLDING: Record<SocketEvent["holding"], string> = {
  pending: "socket in the accept queue",
  held: "socket held by the server",
  orphaned: "socket closed by the server, the kernel finishing it",
  closed_fd_held: "socket closed by the kernel, its fd still held",
  freed: "socket freed",
};

/**
 * Who holds the socket now, in words: the state only where it adds something (a socket in the
 * accept queue before its handshake finished); freed, closed and ended say it themselves.
 */
function holdingText(e: SocketEvent): string {
  return e.holding === "pending" && e.state === "SYN_RECV"
    ? `${HOLDING.pending} (handshake not finished)`
    : HOLDING[e.holding];
}

/**
 * What the kernel's timer on the socket shows, e.g. "retransmit timer, 2 retransmission(s)",
 * with the timer's name and the count as data.
 */
function socketTimer(e: SocketEvent): Pick<TimelineEvent, "kind" | "what" | "timer" | "count"> {
  const timer = `${e.timer.replaceAll("_", " ")} timer`;
  const count = timer === RETRANSMIT_TIMER ? e.retransmits : e.probes;
  if (!count) return { kind: "timer", timer, what: timer };
  return { kind: "timer", timer, count, what: `${timer}, ${timerCount(timer, count)}` };
}

/** The actions that make the connection before the fault (the set-up a timeline folds). */
const SETUP_ACTIONS = new Set([
  "connect",
  "exchange",
  "greeting",
  "send-request",
  "send-partial",
  "request-large",
  "read-response",
  "keep-reading",
  "churn",
]);

/** What a step is: the fault (it says so), the heal, a failed step, the set-up, or another. */
function stepEvent(s: StepRecord, isFault: boolean): Pick<TimelineEvent, "kind" | "what"> {
  const text = stepText(s);
  if (isFault) return { kind: "fault", what: faultNamed(s.action) ? text : `fault: ${text}` };
  if (!s.ok) return { kind: "failed", what: text };
  if (s.action === "heal") return { kind: "heal", what: text };
  return { kind: SETUP_ACTIONS.has(s.action) ? "setup" : "step", what: text };
}

/** A step in words, as the timeline shows it: "fault: reboot (1 socket(s) forgotten)". */
export function stepText(s: StepRecord): string {
  const detail = s.detail ? ` (${s.detail})` : "";
  const text = s.action === "churn"
    ? `churn: ${s.detail ?? ""}`
    : s.action === "keep-reading"
    ? `client reading at ${s.detail ?? ""}`
    : s.action === "stop-reading"
    ? "client stops reading"
    : s.action === "wait"
    ? `waited ${s.detail ?? ""}`
    : faultNamed(s.action)
    ? `fault: ${s.action}${detail}`
    : `${s.action}${detail}`;
  return s.ok ? text : `${text} failed: ${s.error ?? ""}`;
}

/**
 * Whether the router drops what the server sends to the client at monotonic ms `at`: the
 * latest step before it that says what the client's side does is a router fault that leaves
 * the client silent (a vanish, an ICMP rejection, a NAT that forgot the mapping and drops
 * strays). Known by construction: the fault is the router's drop rule.
 */
function droppedAtRouter(steps: readonly StepRecord[]): (at: number) => boolean {
  const changes = steps.filter((s) => s.ok && s.peer !== undefined).sort((a, b) => a.t - b.t);
  return (at) => {
    const last = changes.filter((s) => s.t <= at).at(-1);
    return last?.actor === "router" && last.peer === "silent";
  };
}

/**
 * Keeps the first and last `max / 2` events of a story longer than `max`, with a harness event
 * where the middle was left out, saying how many.
 */
function headAndTail(
  events: readonly (TimelineEvent & { at: number })[],
  max: number,
): (TimelineEvent & { at: number })[] {
  if (events.length <= max) return [...events];
  const head = events.slice(0, max / 2);
  const tail = events.slice(events.length - max / 2);
  const left = events.length - head.length - tail.length;
  const gap = {
    at: events[head.length]!.at,
    atMs: 0,
    actor: "harness" as const,
    kind: "step" as const,
    what: `${left} events not kept here (a results file keeps the first and last ${max / 2})`,
  };
  return [...head, gap, ...tail];
}

/** Builds the timeline of the connection under test. */
export function buildTimeline(obs: Observations): TimelineEvent[] {
  const zero = obs.run.faultAt ?? obs.steps[0]?.t ?? 0;
  const clientPort = obs.connection.clientPort;
  const events: (TimelineEvent & { at: number })[] = [];
  // The fault step: the first that took effect at or after the fault moment.
  const faultAt = obs.run.faultAt;
  const fault = faultAt === undefined ? undefined : obs.steps.find((s) => s.t >= faultAt);
  for (const s of obs.steps) {
    events.push({
      at: s.t,
      atMs: 0,
      actor: s.actor === "router" ? "router" : s.actor === "harness" ? "harness" : "client",
      ...stepEvent(s, s === fault),
    });
  }
  const dropped = droppedAtRouter(obs.steps);
  for (const p of packetsOf(obs.capture.packets ?? [], clientPort)) {
    const fromServer = p.direction === "server_to_client";
    const what = packetText(p);
    if (!what) continue;
    events.push({
      at: p.at,
      atMs: 0,
      actor: fromServer ? "server" : "client",
      kind: packetKind(p),
      to: fromServer ? "client" : "server",
      what,
      ...(fromServer && dropped(p.at) ? { dropped: true as const } : {}),
    });
  }
  for (const u of obs.capture.unreachables ?? []) {
    if (u.clientPort !== undefined && u.clientPort !== clientPort) continue;
    events.push({
      at: u.at,
      atMs: 0,
      actor: "router",
      kind: "icmp",
      to: "server",
      what: `ICMP ${u.says}`,
    });
  }
  for (const e of obs.connection.socket) {
    const shown: Pick<TimelineEvent, "kind" | "what" | "timer" | "count"> | undefined =
      e.changed.includes("holding") && e.holding !== "held"
        ? { kind: e.holding === "pending" ? "socket-open" : "release", what: holdingText(e) }
        : e.changed.includes("state")
        ? {
          kind: e.state === "ESTABLISHED" ? "socket-open" : "socket",
          what: `socket ${STATE_WORDS[e.state] ?? e.state}`,
        }
        : e.changed.some((c) => c === "timer" || c === "retransmits" || c === "probes") &&
            e.timer !== "none"
        ? socketTimer(e)
        : undefined;
    if (shown) events.push({ at: e.at, atMs: 0, actor: "server", ...shown });
  }
  for (const l of obs.bystander ?? []) {
    if (l.serverClosed) {
      // Found as this exchange began: an idle or login timeout of the server's, not a stall.
      events.push({
        at: l.startedAt,
        atMs: 0,
        actor: "bystander",
        kind: "reconnect",
        what: "found its connection closed by the server; reconnected",
      });
    }
    if (!l.ok) {
      events.push({
        at: l.endedAt,
        atMs: 0,
        actor: "bystander",
        kind: "no-answer",
        what: `no answer: ${l.error ?? "timeout"}`,
      });
    }
  }
  if (obs.server.exit) {
    const e = obs.server.exit;
    events.push({
      at: e.at,
      atMs: 0,
      actor: "server",
      kind: "release",
      what: e.signal ? `server killed by ${e.signal}` : `server exited ${e.code}`,
    });
  }
  const story = events.filter((e) => e.at >= zero - BEFORE_FAULT_MS).sort((a, b) => a.at - b.at);
  return headAndTail(story, MAX_EVENTS).map(({ at, ...e }) => ({
    ...e,
    atMs: Math.round(at - zero),
  }));
}
