/**
 * A scenario's step as data, as a suite file writes it: its kind and parameters. The step
 * registry (registry.ts) has one action per kind.
 *
 * @module
 */

import type { FaultStep } from "../faults/registry.ts";
import type { Duration } from "../time/duration.ts";

/** A client primitive or a fault, done in order by the runner. */
export type Step =
  | { kind: "connect"; rcvBuf?: number; greet?: boolean }
  | { kind: "exchange" }
  | { kind: "send-request" }
  | { kind: "send-partial" }
  | { kind: "request-large" }
  | { kind: "read-response" }
  | { kind: "keep-reading" }
  | { kind: "stop-reading" }
  | { kind: "half-close" }
  | { kind: "close" }
  | { kind: "abort" }
  | { kind: "crash" }
  | { kind: "freeze" }
  | { kind: "thaw" }
  | { kind: "wait"; duration: Duration }
  | { kind: "churn"; clients: number; then: "abort" | "vanish" | "crash" }
  | { kind: "fault"; fault: FaultStep };

/** The step of one kind. */
export type StepOf<K extends Step["kind"]> = Extract<Step, { kind: K }>;
