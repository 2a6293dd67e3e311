/**
 * Carries out one scenario step through the step registry (lib/actions/registry.ts): the
 * runner knows no step or fault by name. What the step leaves in place (a fault to undo, a
 * NAT, a read running) becomes the scenario's live state; what it did and learned goes back
 * to the runner.
 *
 * @module
 */

import { HarnessError, type StepDone } from "../actions/action.ts";
import { actionFor, type Step } from "../actions/registry.ts";
import type { ScenarioContext } from "./scenario_context.ts";

/**
 * Carries out `step` and returns what it did and learned; throws FaultUnsupported (skip),
 * NotApplicable (skip) or HarnessError (error). `connected` is told of the connection under
 * test as soon as a step opens it.
 */
export async function runStep(
  ctx: ScenarioContext,
  step: Step,
  connected: (conn: number, clientPort: number) => Promise<void>,
): Promise<StepDone> {
  const done = await actionFor(step).run({
    lab: ctx.lab,
    target: ctx.target,
    server: ctx.server,
    agent: ctx.agent,
    signal: ctx.signal,
    scenarioMs: ctx.plan.scenarioMs,
    conn: ctx.conn,
    clientPort: ctx.clientPort,
    natStrays: ctx.natStrays,
    background: ctx.background,
    connected,
    undoLast: () => {
      const undo = ctx.undoable.pop();
      if (!undo) throw new HarnessError(`Nothing to undo: no fault that can be undone is in place`);
      return undo();
    },
  }, step);
  if (done.undo) ctx.undoable.push(done.undo);
  if (done.clientAddressSeen) ctx.clientAddressSeen = done.clientAddressSeen;
  if (done.natTimeoutMs !== undefined) ctx.natTimeoutMs = done.natTimeoutMs;
  if (done.natStrays) ctx.natStrays = done.natStrays;
  if (done.background) ctx.background = done.background;
  return done;
}
