/**
 * Every step a scenario can take, by the kind a suite file's step data carries: the client's
 * primitives and `fault`, which applies a fault of lib/faults/registry.ts. The runner, the
 * suite DSL and its validation look steps up here; adding a step is its own module, one entry
 * here, and its test (a new fault is one entry in lib/faults/registry.ts instead).
 *
 * @module
 */

import { abortAction } from "./abort.ts";
import type { Action } from "./action.ts";
import type { Step, StepOf } from "./step.ts";
import { applyFaultAction } from "./apply_fault.ts";
import { churnAction } from "./churn.ts";
import { closeAction } from "./close.ts";
import { connectAction } from "./connect.ts";
import { crashAction } from "./crash.ts";
import { exchangeAction } from "./exchange.ts";
import { freezeAction } from "./freeze.ts";
import { halfCloseAction } from "./half_close.ts";
import { keepReadingAction } from "./keep_reading.ts";
import { readResponseAction } from "./read_response.ts";
import { requestLargeAction } from "./request_large.ts";
import { sendPartialAction } from "./send_partial.ts";
import { sendRequestAction } from "./send_request.ts";
import { stopReadingAction } from "./stop_reading.ts";
import { thawAction } from "./thaw.ts";
import { waitAction } from "./wait.ts";

/** The registry, in the order a scenario usually takes them: step kind → action. */
export const ACTIONS: { readonly [K in Step["kind"]]: Action<K, StepOf<K>> } = {
  "connect": connectAction,
  "exchange": exchangeAction,
  "send-request": sendRequestAction,
  "send-partial": sendPartialAction,
  "request-large": requestLargeAction,
  "read-response": readResponseAction,
  "keep-reading": keepReadingAction,
  "stop-reading": stopReadingAction,
  "half-close": halfCloseAction,
  "close": closeAction,
  "abort": abortAction,
  "crash": crashAction,
  "freeze": freezeAction,
  "thaw": thawAction,
  "wait": waitAction,
  "churn": churnAction,
  "fault": applyFaultAction,
};

export type { Step };

/** Every step kind, for validation and listing. */
export const STEP_KINDS = Object.keys(ACTIONS) as readonly Step["kind"][];

// deno-lint-ignore no-explicit-any
type AnyAction = Action<string, any>;

/** The action of a step kind, or undefined for an unknown kind. */
export function actionOf(kind: string): AnyAction | undefined {
  return Object.hasOwn(ACTIONS, kind) ? ACTIONS[kind as Step["kind"]] : undefined;
}

/** The action of a checked step (one of a loaded suite). */
export function actionFor(step: Step): AnyAction {
  const action = actionOf(step.kind);
  if (!action) throw new TypeError(`Unknown step kind: "${step.kind}"`);
  return action;
}

/**
 * Whether `step` takes the client down: the first such step of a scenario is "the fault",
 * the moment release times are measured from.
 */
export function isDownStep(step: Step): boolean {
  return actionOf(step.kind)?.takesClientDown(step) ?? false;
}
