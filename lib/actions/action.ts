/**
 * The one shape every step action has, client primitive or fault: who acts, what it needs,
 * how its parameters are checked, and `run`, which returns what it did and what it learned.
 * Actions act and never observe; the runner finds them through the registry (registry.ts)
 * and keeps what they return.
 *
 * @module
 */

import type { ClientAgent } from "../client/client_agent.ts";
import type { FaultDone, ParameterProblem } from "../faults/fault.ts";
import type { CapabilityName } from "../faults/capabilities.ts";
import type { Lab } from "../lab/lab.ts";
import type { ExchangeRecord, StepActor, StepRecord } from "../observe/observations.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import type { RunningTarget } from "../target/start_target.ts";

export type { ParameterProblem };

/** How long reading a whole response may take in a `read-response` step. */
export const READ_RESPONSE_MS = 30_000;

/** A step or the harness could not go on: the scenario ends with verdict `error`. */
export class HarnessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HarnessError";
  }
}

/** The scenario cannot apply to this target (e.g. its protocol has no large response): skip. */
export class NotApplicable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotApplicable";
  }
}

/** What of the client agent the actions use. */
export type StepAgent = Pick<
  ClientAgent,
  | "connect"
  | "send"
  | "read"
  | "stopReading"
  | "halfClose"
  | "close"
  | "abort"
  | "crash"
  | "freeze"
  | "thaw"
>;

/** The live parts of a running scenario a step acts on; it only reads them. */
export interface StepContext {
  readonly lab: Lab;
  readonly target: TargetDefinition;
  readonly server: RunningTarget;
  readonly agent: StepAgent;
  /** Aborted when the run is interrupted: steps stop waiting. */
  readonly signal: AbortSignal;
  /** An upper bound of the whole scenario: the lifetime of a read left running. */
  readonly scenarioMs: number;
  /** The connection under test, once connected. */
  readonly conn: number | undefined;
  /** Its client port, once connected. */
  readonly clientPort: number | undefined;
  /** What a NAT in place does with strays, once one is. */
  readonly natStrays: "rst" | "drop" | undefined;
  /** A read left running by `keep-reading`, if one runs. */
  readonly background: Promise<unknown> | undefined;
  /**
   * Tells the runner the connection under test is open, before anything is sent on it: the
   * runner starts watching it.
   */
  connected(conn: number, clientPort: number): Promise<void>;
  /** Undoes the most recent fault that can be undone; resolves with the monotonic ms. */
  undoLast(): Promise<number>;
}

/** What a step did, and what it learned that the scenario needs later. */
export interface StepDone {
  /** What was done, in order; the last one is what took the client down, if it did. */
  records: StepRecord[];
  /** A read the step left running. */
  background?: Promise<unknown>;
  /** The response a `read-response` step read. */
  response?: ExchangeRecord["response"];
  /** The connections a churn opened, and those the server refused. */
  churn?: ExchangeRecord["churn"];
  /** A fault now in place that `heal` can undo. */
  undo?: FaultDone["undo"];
  /** The address the server sees the client at from now on (a NAT's public one). */
  clientAddressSeen?: string;
  /** A NAT's established-connection timeout now in place, in ms. */
  natTimeoutMs?: number;
  /** The stray policy of a NAT now in place. */
  natStrays?: "rst" | "drop";
}

/** A step action. `P` is its step's data as a suite file writes it, kind included. */
export interface Action<Kind extends string, P extends { kind: Kind }> {
  readonly kind: Kind;
  /** One line for the reader: what happens. */
  readonly summary: string;
  /** The step's name for the reader: its kind, or the fault's name. */
  name(step: P): string;
  /** Who acts: the client, its host, the router, the harness. */
  actor(step: P): StepActor;
  /** Whether it takes the client down: the first such step is the fault moment. */
  takesClientDown(step: P): boolean;
  /**
   * Whether its first wire effect is the client's FIN or RST: the capture, not the step's own
   * report, tells when it took effect.
   */
  endsWithSegment(step: P): boolean;
  /** Whether the client must be a process a step can kill or stop (see ClientAgent's holder). */
  needsHolder(step: P): boolean;
  /** What it needs from the machine; a missing capability skips the scenario. */
  needs(step: P): readonly CapabilityName[];
  /** The scenario's own pause it makes, in ms, always run in full. */
  pauseMs(step: P): number;
  /** Checks a step that came from a suite file; the field is relative to the step. */
  check(step: P): ParameterProblem | undefined;
  /** Carries the step out. Throws FaultUnsupported or NotApplicable (skip), HarnessError. */
  run(ctx: StepContext, step: P): Promise<StepDone>;
}

type Either<P, T> = T | ((step: P) => T);

/** Declares an action; what it leaves out is the common case (not down, no needs, no pause). */
export function defineAction<Kind extends string, P extends { kind: Kind } = { kind: Kind }>(
  action: {
    kind: Kind;
    summary: string;
    name?: (step: P) => string;
    actor: Either<P, StepActor>;
    takesClientDown?: Either<P, boolean>;
    endsWithSegment?: Either<P, boolean>;
    needsHolder?: Either<P, boolean>;
    needs?: (step: P) => readonly CapabilityName[];
    pauseMs?: (step: P) => number;
    check?: (step: P) => ParameterProblem | undefined;
    run: (ctx: StepContext, step: P) => Promise<StepDone>;
  },
): Action<Kind, P> {
  const either = <T>(value: Either<P, T>) =>
    typeof value === "function" ? value as (step: P) => T : () => value;
  return {
    kind: action.kind,
    summary: action.summary,
    name: action.name ?? (() => action.kind),
    actor: either(action.actor),
    takesClientDown: either(action.takesClientDown ?? false),
    endsWithSegment: either(action.endsWithSegment ?? false),
    needsHolder: either(action.needsHolder ?? false),
    needs: action.needs ?? (() => []),
    pauseMs: action.pauseMs ?? (() => 0),
    check: action.check ?? (() => undefined),
    run: action.run,
  };
}

/** The one record of a step that did its work in one go. */
export function stepDone(
  actor: StepActor,
  action: string,
  t: number,
  more: Partial<StepRecord> = {},
): StepDone {
  return { records: [{ actor, action, t, ok: true, ...more }] };
}

/** The connection under test, or a HarnessError naming the step that needs it. */
export function connectionOf(ctx: StepContext, step: string): number {
  if (ctx.conn === undefined) {
    throw new HarnessError(`Step "${step}" needs a connection: put connect() before it`);
  }
  return ctx.conn;
}
