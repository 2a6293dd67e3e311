/**
 * The one shape every fault has: its name, what it needs from the machine, whether it takes
 * the client down, how its parameters are checked, and `apply`, which says what was done and
 * when and how to undo it. The step action `fault` (lib/actions/apply_fault.ts) finds faults
 * through the registry (registry.ts) and knows nothing else about them.
 *
 * @module
 */

import type { Lab } from "../lab/lab.ts";
import type { StepActor } from "../observe/observations.ts";
import type { CapabilityName } from "./capabilities.ts";
import type { FaultUnsupported } from "./unsupported.ts";

/** What a fault may use of the running scenario. */
export interface FaultContext {
  readonly lab: Lab;
  /** The server's listening port. */
  readonly serverPort: number;
  /** The client's port of the connection under test, once connected. */
  readonly clientPort: number | undefined;
  /** What a NAT in place does with strays, once one is. */
  readonly natStrays: "rst" | "drop" | undefined;
  /**
   * Undoes the most recent fault that can be undone (a vanish, an ICMP rejection) and
   * resolves with the monotonic ms traffic flows again; throws when there is none.
   */
  undoLast(): Promise<number>;
}

/** What a fault did, and when. */
export interface FaultDone {
  /** Monotonic ms at which the fault took effect. */
  t: number;
  /**
   * Monotonic ms just before the system call that applied it, when one did: it took effect
   * within that call, between `sentAt` and `t`.
   */
  sentAt?: number;
  /** What was done, in words, when more than the fault's name says (e.g. "2 socket(s) forgotten"). */
  detail?: string;
  /** Removes the fault; resolves with the monotonic ms it was removed. */
  undo?: () => Promise<number>;
  /** The address the server sees the client at from now on (a NAT's public one). */
  clientAddressSeen?: string;
  /** A NAT's established-connection timeout now in place, in ms. */
  natTimeoutMs?: number;
  /** The stray policy of a NAT now in place. */
  natStrays?: "rst" | "drop";
  /** What the client's side does from now on when the server sends to it. */
  peer?: "silent" | "answers" | "resets";
}

/** A problem with a fault's parameters: the field and what it must be. */
export interface ParameterProblem {
  field: string;
  expected: string;
}

/** A fault. `P` is its parameters, as a suite file writes them. */
export interface Fault<Name extends string, P extends object, Args extends unknown[]> {
  readonly name: Name;
  /** One line for the reader: what happens on the wire. */
  readonly summary: string;
  /** Where it acts: the router, or the client's host. */
  readonly actor: Extract<StepActor, "router" | "client-host">;
  /** Whether applying it takes the client down: the first such step is the fault moment. */
  readonly takesClientDown: boolean;
  /**
   * Whether its first wire effect is the client's RST or FIN of the connection under test: the
   * capture, not the fault's own report, tells when it took effect.
   */
  readonly endsWithSegment: boolean;
  /** What it needs from the machine; a missing capability skips the scenario. */
  needs(params: P): readonly CapabilityName[];
  /** The parameters a suite file's `fault.<name>(...)` call makes. */
  params(...args: Args): P;
  /** Checks parameters that came from a suite file. */
  check(params: P): ParameterProblem | undefined;
  /** Applies the fault. */
  apply(ctx: FaultContext, params: P): Promise<FaultDone | FaultUnsupported>;
}

/** Declares a fault; a fault without parameters leaves out `params` and `check`. */
export function defineFault<
  Name extends string,
  P extends object = Record<never, never>,
  Args extends unknown[] = [],
>(
  fault: Omit<Fault<Name, P, Args>, "params" | "check" | "needs" | "endsWithSegment"> & {
    endsWithSegment?: boolean;
    params?: (...args: Args) => P;
    check?: (params: P) => ParameterProblem | undefined;
    needs: readonly CapabilityName[] | ((params: P) => readonly CapabilityName[]);
  },
): Fault<Name, P, Args> {
  const needs = fault.needs;
  return {
    ...fault,
    endsWithSegment: fault.endsWithSegment ?? false,
    needs: typeof needs === "function" ? needs : () => needs,
    params: fault.params ?? ((() => ({})) as unknown as (...args: Args) => P),
    check: fault.check ?? (() => undefined),
  };
}
