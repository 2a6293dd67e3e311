/**
 * The evidence timeline of a scenario: steps, packets of the connection under test, what the
 * kernel showed of the server's socket, the bystander's failures and the server's exit, in
 * time order relative to the fault.
 *
 * @module
 */

import type { PacketEvent } from "../observe/capture.ts";
import type { SocketEvent } from "../observe/socket_watch.ts";
import type { TimelineEvent } from "../results/schema.ts";
import type { Observations } from "./observations.ts";
import { packetsOf } from "./release_how.ts";

/** Events before the fault older than this are left out: the set-up is not the story. */
const BEFORE_FAULT_MS = 500;
/** At most this many events; the Markdown renderer folds runs further. */
const MAX_EVENTS = 400;

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

const HOLDING: Record<SocketEvent["holding"], string> = {
  pending: "socket in the accept queue",
  held: "socket held by the server",
  orphaned: "socket closed by the server, the kernel finishing it",
  closed_fd_held: "socket closed by the kernel, its fd still held",
  freed: "socket freed",
};

/** What the kernel's timer on the socket shows, e.g. "retransmit timer, 2 retransmissions". */
function socketTimer(e: SocketEvent): string {
  const timer = `${e.timer.replaceAll("_", " ")} timer`;
  if (e.timer === "retransmit" && e.retransmits) {
    return `${timer}, ${e.retransmits} retransmission(s)`;
  }
  if (e.probes) return `${timer}, ${e.probes} probe(s) unanswered`;
  return timer;
}

/** Builds the timeline; `clientPort` picks the connection under test out of the capture. */
export function buildTimeline(obs: Observations, clientPort: number | undefined): TimelineEvent[] {
  const zero = obs.faultAt ?? obs.steps[0]?.t ?? 0;
  const events: (TimelineEvent & { at: number })[] = [];
  for (const s of obs.steps) {
    const fault = s.label.startsWith("fault") || s.label.startsWith("churn");
    events.push({
      at: s.t,
      atMs: 0,
      actor: fault ? "router" : "client",
      what: s.ok ? s.label : `${s.label} failed: ${s.error ?? ""}`,
    });
  }
  for (const p of packetsOf(obs.packets ?? [], clientPort)) {
    const fromServer = p.direction === "server_to_client";
    const what = packetText(p);
    if (!what) continue;
    events.push({
      at: p.at,
      atMs: 0,
      actor: fromServer ? "server" : "client",
      to: fromServer ? "client" : "server",
      what,
    });
  }
  for (const e of obs.socket) {
    const what = e.changed.includes("holding") && e.holding !== "held"
      ? `${HOLDING[e.holding]} (${e.state})`
      : e.changed.includes("state")
      ? `socket ${e.state}`
      : e.changed.some((c) => c === "timer" || c === "retransmits" || c === "probes") &&
          e.timer !== "none"
      ? socketTimer(e)
      : undefined;
    if (what) events.push({ at: e.at, atMs: 0, actor: "server", what });
  }
  for (const l of obs.liveness ?? []) {
    if (!l.ok) {
      events.push({
        at: l.endedAt,
        atMs: 0,
        actor: "bystander",
        what: `no answer: ${l.error ?? "timeout"}`,
      });
    }
  }
  if (obs.serverExit) {
    const e = obs.serverExit;
    events.push({
      at: e.at,
      atMs: 0,
      actor: "server",
      what: e.signal ? `server killed by ${e.signal}` : `server exited ${e.code}`,
    });
  }
  return events
    .filter((e) => e.at >= zero - BEFORE_FAULT_MS)
    .sort((a, b) => a.at - b.at)
    .slice(0, MAX_EVENTS)
    .map(({ at, ...e }) => ({ ...e, atMs: Math.round(at - zero) }));
}
