/**
 * What was observed in one scenario, as typed records on one monotonic clock, each returned by
 * the part that made it (the runner's own moments, the steps, the socket watch, the packet
 * capture, the server process, the bystander and the exchanges on the connection) and put
 * together once, when the scenario is over (lib/runner/observed.ts). Evaluation reads only
 * this; it is plain data, so runs can be recorded as fixtures and judged again.
 *
 * @module
 */

import type { HarnessFigures, Measurements, SocketOptions, TcpSysctls } from "../results/schema.ts";
import type { PacketEvent, UnreachableEvent } from "./capture.ts";
import type { ProcessExit, ServerSample } from "./server_process.ts";
import type { SocketEvent } from "./socket_watch.ts";

/** One exchange of the bystander (the liveness probe); times are monotonic ms. */
export interface LivenessSample {
  /** When the exchange began. */
  startedAt: number;
  /** When the request left, if it did. */
  sentAt?: number;
  /** When the response completed, or the exchange failed or ran out of time. */
  endedAt: number;
  /** Whether the full response arrived within `timeoutMs`. */
  ok: boolean;
  /** Request sent → response complete, when ok, as the probe saw it (its own reading moment). */
  latencyMs?: number;
  /**
   * Request left (CLOCK_REALTIME right before the send syscall) → the kernel's receive stamp
   * (SO_TIMESTAMPNS) of the answer's first byte, when ok: the figure a late reader cannot bend.
   */
  kernelLatencyMs?: number;
  /** Whether the exchange had to open a new connection first. */
  reconnected: boolean;
  /** Why it failed: an errno name (ETIMEDOUT: no response in time), or EOF (closed instead). */
  error?: string;
  /**
   * The server closed the probe's kept connection on its own (an idle or login timeout), before
   * or as this exchange's request went: the exchange went on a new connection, and only that
   * one counts.
   */
  serverClosed?: true;
  /** What the server sent on its own before that close (at most 120 characters), if anything. */
  farewell?: string;
}

/**
 * What the client's side does when the server sends to it: silent (gone), answers (its kernel
 * still ACKs), or resets (its kernel or a router answers with RST).
 */
export type PeerBehaviour = "silent" | "answers" | "resets";

/** Who acted in a step. */
export type StepActor = "client" | "client-host" | "router" | "harness";

/** One step as it was carried out: who acted, what, and when. */
export interface StepRecord {
  actor: StepActor;
  /** The step's kind or the fault's name, e.g. "abort", "vanish". */
  action: string;
  /** What was done, in words, beyond the action's name. */
  detail?: string;
  /** Monotonic ms when it took effect (its wire moment). */
  t: number;
  /**
   * Monotonic ms just before the system call that did it, when the runner made that call
   * itself (a router rule switched by netlink): it took effect between `sentAt` and `t`.
   */
  sentAt?: number;
  ok: boolean;
  /** The errno name or message when it failed. */
  error?: string;
  /** Whether it moved data on the connection under test (for "last traffic"). */
  traffic?: boolean;
  /** What the client's side does from now on when the server sends to it. */
  peer?: PeerBehaviour;
  /**
   * No figure turns on when it took effect, so the runner's lateness then bends none: a churn's
   * hundreds of connects and resets keep the runner busy by design, and it is judged on whether
   * the server's connections come back to the baseline within the watch.
   */
  untimed?: true;
}

/** How the scenario ended for the runner. */
export type RunOutcome =
  | { kind: "completed" }
  /** A fault this machine cannot build: skipped with the reason. */
  | { kind: "unsupported"; reason: string }
  /** The scenario does not apply to this target: skipped with the reason. */
  | { kind: "not-applicable"; reason: string }
  /** The harness itself failed. */
  | { kind: "harness-error"; message: string }
  /** The run was stopped (a signal): nothing about the server may be concluded. */
  | { kind: "interrupted"; reason: string };

/** The runner's own record of the scenario's moments. */
export interface RunRecord {
  outcome: RunOutcome;
  /**
   * When the first step that took the client down took effect, as the kernel saw it: release
   * times count from here (see faultMoment for how it was taken).
   */
  faultAt?: number;
  /** When the runner asked for that step, and where faultAt was taken from, within what. */
  faultMoment?: {
    askedAt: number;
    source: NonNullable<Measurements["faultMoment"]>["source"];
    toleranceMs: number;
  };
  /** The last moment data moved on the connection before the fault. */
  lastTrafficAt?: number;
  /** When the last step ended and the wait for the server's reaction began. */
  stepsEndedAt?: number;
  /** When the runner stopped watching. */
  endAt: number;
  /** How long, after the steps, the runner was prepared to wait (capped by the deadline). */
  waitPlannedMs: number;
  /** The run's deadline. */
  deadlineMs: number;
  /** A NAT's established-connection timeout, when a NAT was in place. */
  natTimeoutMs?: number;
  /** Something went wrong while ending the helpers, after everything was observed. */
  teardownNote?: string;
  /** Harness overhead, and the runner's lateness while the scenario measured. */
  harness: HarnessFigures;
}

/** The connection under test, as the server's kernel showed it. */
export interface ConnectionRecord {
  /** The client's port, as the server sees it. */
  clientPort?: number;
  /** What the socket watch recorded of the server's socket, oldest first. */
  socket: SocketEvent[];
  /** The server socket's options, read last just before the fault. */
  options?: SocketOptions;
  /** The server namespace's TCP sysctls. */
  sysctls?: TcpSysctls;
  /**
   * CONFIG_HZ of the kernel (lib/observe/kernel_hz.ts), which sets how late its TCP timers fire;
   * absent when the kernel does not say (predictions then take the coarsest timer wheel).
   */
  kernelHz?: number;
}

/** The packet capture at the router. */
export interface CaptureRecord {
  /** Packets of every connection to the server; undefined when there was no capture. */
  packets?: PacketEvent[];
  /** ICMP(v6) destination unreachable messages the router sent the server. */
  unreachables?: UnreachableEvent[];
  /** Packets the kernel dropped before the capture read them: the capture is incomplete. */
  droppedByKernel?: number;
  /** For the reader, not the verdict: why there was no capture, or that it is incomplete. */
  note?: string;
}

/** The server process. */
export interface ServerRecord {
  /** Just before the fault. */
  before?: ServerSample;
  /** When the runner stopped watching, if it was still running. */
  after?: ServerSample;
  /** Its exit, when it ended by itself during the scenario (not at teardown). */
  exit?: ProcessExit;
  /** The last lines it wrote to stderr. */
  stderrTail?: string;
  /** The last lines of its log file, when the target names one. */
  log?: string;
}

/** Exchanges on the connection under test after the fault, and churn counts. */
export interface ExchangeRecord {
  /** An exchange (or a look at both ends) after the steps, for `survives`. */
  survived?: {
    ok: boolean;
    error?: string;
    byState?: boolean;
    /** Behind a NAT: it held no mapping for the connection any more (no exchange was tried). */
    natForgot?: boolean;
    at: number;
  };
  /** The response read by a `read-response` step. */
  response?: { found: boolean; bytes: number; error?: string };
  /** Connections the churn step opened, and those the server refused or dropped at once. */
  churn?: { opened: number; refused: number };
}

/** Everything observed in one scenario. */
export interface Observations {
  run: RunRecord;
  steps: StepRecord[];
  connection: ConnectionRecord;
  capture: CaptureRecord;
  server: ServerRecord;
  /** The healthy second client's exchanges, when one probed. */
  bystander?: LivenessSample[];
  /** How long the bystander gave each exchange: an exchange it saw answered was within this. */
  bystanderTimeoutMs?: number;
  exchanges: ExchangeRecord;
}

/** Observations of a scenario that has not started yet. */
export function emptyObservations(deadlineMs: number): Observations {
  return {
    run: {
      outcome: { kind: "completed" },
      endAt: 0,
      waitPlannedMs: 0,
      deadlineMs,
      harness: { labUpMs: 0, targetReadyMs: 0, teardownMs: 0 },
    },
    steps: [],
    connection: { socket: [] },
    capture: {},
    server: {},
    exchanges: {},
  };
}
