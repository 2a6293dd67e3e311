/**
 * One plan of time bounds per scenario, computed from the run's options and the scenario
 * and passed explicitly to everything that waits. Steps run in full, whatever the deadline
 * (a 30 s outage is a 30 s outage); the deadline only bounds the wait for the server's
 * reaction after the steps. A deadline or budget the runner cannot honour is refused before
 * anything starts.
 *
 * @module
 */

import { READ_RESPONSE_MS } from "../actions/action.ts";
import { actionFor } from "../actions/registry.ts";
import { EXCHANGE_MS } from "../client/exchange.ts";
import type { Scenario } from "../suite/define_suite.ts";
import { verifierOf } from "../evaluate/verifiers/registry.ts";

/** The least time the runner watches after the fault, so a late death or stall is seen. */
export const OBSERVE_MS = 2000;
/** Setting up: the lab, the target listening, the agents, the capture. */
export const SETUP_MS = 120_000;
/** Tearing down: the helpers ended, the lab removed. */
export const TEARDOWN_MS = 60_000;
/**
 * The longest deadline the runner accepts: the longest timer the runtime sets is 2^31 − 1 ms
 * (24.8 days); a week is beyond any budget a suite states (the OS keepalive default is
 * 2 h 11 min) and leaves the whole scenario's bound under that limit.
 */
export const MAX_DEADLINE_MS = 7 * 24 * 3_600_000;
/** The longest timer the runtime can set. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The time bounds of one scenario, in ms. */
export interface TimePlan {
  /** The run's deadline: the most the runner waits after the steps. */
  deadlineMs: number;
  /** The scenario's own pauses (`wait` steps), always run in full. */
  stepsMs: number;
  /** After the fault, how long the expectations need watching at most (before the deadline). */
  watchMs: number;
  /** Each step's own bound (an exchange, a read). */
  stepBoundMs: number;
  /** An upper bound of the whole scenario: the socket watch's and background reads' lifetime. */
  scenarioMs: number;
}

/** A deadline or budget the runner cannot honour. */
export class TimePlanError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "TimePlanError";
  }
}

/**
 * Plans one scenario's time bounds.
 *
 * @example
 * ```ts ignore
 * const plan = timePlan(scenario, 60_000);
 * plan.stepsMs; // the scenario's waits, in full
 * ```
 */
export function timePlan(scenario: Scenario, deadlineMs: number): TimePlan {
  if (!(Number.isFinite(deadlineMs) && deadlineMs > 0 && deadlineMs <= MAX_DEADLINE_MS)) {
    throw new TimePlanError(
      `Invalid deadline: "${deadlineMs}" ms (more than 0, at most ${MAX_DEADLINE_MS} ms, 7 days)`,
    );
  }
  const stepsMs = scenario.steps.reduce((sum, step) => sum + actionFor(step).pauseMs(step), 0);
  const watchMs = Math.max(
    OBSERVE_MS,
    ...scenario.expect.map((e) => verifierOf(e.kind)?.watchMs(e as never) ?? 0),
  );
  const stepBoundMs = Math.max(EXCHANGE_MS, READ_RESPONSE_MS);
  const scenarioMs = SETUP_MS + stepsMs + scenario.steps.length * stepBoundMs + deadlineMs +
    2 * EXCHANGE_MS + TEARDOWN_MS;
  if (scenarioMs > MAX_TIMER_MS) {
    throw new TimePlanError(
      `Scenario "${scenario.id}" would run longer than the runner can time (${MAX_TIMER_MS} ms): ` +
        `its waits take ${stepsMs} ms and the deadline is ${deadlineMs} ms`,
    );
  }
  return { deadlineMs, stepsMs, watchMs, stepBoundMs, scenarioMs };
}

/**
 * How long after the steps the runner waits for the server's reaction: until every
 * expectation has watched what it needs since the fault, at most the deadline.
 */
export function waitAfterSteps(
  plan: TimePlan,
  faultAt: number | undefined,
  stepsEndedAt: number,
): number {
  const since = faultAt === undefined ? 0 : stepsEndedAt - faultAt;
  return Math.min(plan.deadlineMs, Math.max(0, plan.watchMs - since));
}
