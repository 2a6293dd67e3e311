/**
 * How a certification runs, and what it tells the progress display while it runs.
 *
 * @module
 */

import type { ScenarioResult } from "../results/schema.ts";
import type { Gate } from "./pool.ts";

/** Settings of one run. */
export interface RunOptions {
  /**
   * How long the runner waits for the server to act after the steps (not a requirement's
   * budget, and never shortening a step).
   */
  deadlineMs: number;
  /** Scenarios running at once (most of them waiting). */
  concurrency: number;
  /**
   * A limit on running scenarios shared with other runs (several targets side by side draw
   * from one pool); without it, this run makes its own of `concurrency` slots.
   */
  runGate?: Gate;
  /**
   * Lets only a few scenarios set up at once (default: one per core but one); runs of several targets
   * side by side share one.
   */
  startGate?: Gate;
  /** Called as scenarios start, wait and end. */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Interrupts the run when aborted (its reason, e.g. "SIGINT", is reported): no new scenario
   * starts, running ones stop waiting, tear down and come back as `interrupted`.
   */
  signal?: AbortSignal;
}

/** What the runner reports while it works. */
export type ProgressEvent =
  | { kind: "start"; target: string; scenario: string; deadlineMs: number; t: number }
  | { kind: "waiting"; target: string; scenario: string; for: string; t: number }
  | { kind: "end"; target: string; result: ScenarioResult; t: number };
