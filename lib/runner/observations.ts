/**
 * What the runner saw during one scenario: typed events on the monotonic clock. Evaluation
 * reads only this; faults and steps never read it.
 *
 * @module
 */

import type { LivenessSample } from "../client/liveness_probe.ts";
import type { PacketEvent } from "../observe/capture.ts";
import type { ProcessExit, ProcessSample } from "../observe/server_process.ts";
import type { SocketOptions, TcpSysctls } from "../observe/socket_options.ts";
import type { SocketEvent } from "../observe/socket_watch.ts";

/** One step as it was carried out. */
export interface StepRecord {
  /** e.g. "connect", "fault: vanish". */
  label: string;
  /** Monotonic ms when it completed (its wire moment). */
  t: number;
  ok: boolean;
  /** The errno name or message when it failed. */
  error?: string;
  /** Whether it moved data on the connection under test (for "last traffic"). */
  traffic?: boolean;
}

/** Everything observed in one scenario. */
export interface Observations {
  steps: StepRecord[];
  /** The first step that took the client down: release times count from here. */
  faultAt?: number | undefined;
  /** The last moment data moved on the connection before the fault. */
  lastTrafficAt?: number | undefined;
  /** When the runner stopped waiting. */
  endAt: number;
  /** What the runner waited for, and for how long at most. */
  waitedMs: number;
  /** A fault this machine cannot build: the scenario is skipped with this reason. */
  unsupported?: string;
  /** The scenario does not apply to this target: skipped with this reason. */
  notApplicable?: string;
  /** Something went wrong while ending the helpers, after everything was observed. */
  teardownNote?: string;
  /** The NAT's established-connection timeout, when a NAT fault is in place. */
  natTimeoutMs?: number;
  /** The harness itself failed. */
  harnessError?: string;
  /** The client's port of the connection under test, as the server sees it. */
  clientPort?: number;
  /** The server socket of the connection under test, as the kernel showed it. */
  socket: SocketEvent[];
  /** When the server stopped holding the connection. */
  releasedAt?: number | undefined;
  socketOptions?: SocketOptions;
  sysctls?: TcpSysctls;
  packets?: PacketEvent[];
  captureNote?: string;
  liveness?: LivenessSample[];
  processBefore?: ProcessSample;
  processAfter?: ProcessSample;
  serverExit?: ProcessExit;
  /** An exchange on the connection under test after the steps (for `survives`). */
  survived?: { ok: boolean; error?: string; byState?: boolean };
  /** The response read by a `read-response` step. */
  response?: { found: boolean; bytes: number; error?: string };
  /** Connections the churn step opened, and those the server refused or dropped at once. */
  churn?: { opened: number; refused: number };
  /** Harness overhead. */
  harness: { labUpMs: number; targetReadyMs: number; teardownMs: number };
}
