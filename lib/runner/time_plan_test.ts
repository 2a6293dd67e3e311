import assert from "node:assert/strict";
import type { Scenario } from "../suite/define_suite.ts";
import { connect, exchange, fault, wait } from "../suite/steps.ts";
import { othersServed, released, survives } from "../suite/expectations.ts";
import {
  MAX_DEADLINE_MS,
  OBSERVE_MS,
  timePlan,
  TimePlanError,
  waitAfterSteps,
} from "./time_plan.ts";

const scenario = (steps: Scenario["steps"], expect: Scenario["expect"]): Scenario => ({
  id: "blip/test",
  title: "t",
  requirement: "R",
  level: "MAY",
  refs: ["RFC 9293"],
  phase: "idle",
  steps,
  expect,
});

Deno.test("a step's duration is the scenario's: the plan keeps it whatever the deadline", () => {
  const blip = scenario([connect(), exchange(), fault.vanish(), wait("30s"), fault.heal()], [
    survives(),
  ]);
  const plan = timePlan(blip, 1000);
  assert.equal(plan.stepsMs, 30_000);
  assert.equal(plan.deadlineMs, 1000);
  // The socket watch and background reads outlive the steps and the wait.
  assert.ok(plan.scenarioMs > 30_000 + 1000);
});

Deno.test("the deadline bounds only the wait after the steps", () => {
  const idle = scenario([connect(), exchange(), fault.vanish()], [
    released({ within: "10m" }),
    othersServed(),
  ]);
  const plan = timePlan(idle, 60_000);
  assert.equal(plan.watchMs, 600_000);
  assert.equal(waitAfterSteps(plan, 1000, 1000), 60_000); // the deadline
  assert.equal(timePlan(idle, 3_600_000).watchMs, 600_000);
  assert.equal(waitAfterSteps(timePlan(idle, 3_600_000), 1000, 1000), 600_000); // the budget
  // Steps that took longer than the expectations need leave nothing to wait for but the
  // least observation.
  const short = timePlan(scenario([connect(), fault.vanish()], [survives()]), 60_000);
  assert.equal(short.watchMs, OBSERVE_MS);
  assert.equal(waitAfterSteps(short, 0, 30_000), 0);
});

Deno.test("a deadline the runner cannot honour is refused", () => {
  const s = scenario([connect(), fault.vanish()], [released({ within: "1s" })]);
  for (const deadline of [0, -1, NaN, Infinity, MAX_DEADLINE_MS + 1, 2 ** 31]) {
    assert.throws(() => timePlan(s, deadline), TimePlanError, String(deadline));
  }
  assert.equal(timePlan(s, MAX_DEADLINE_MS).deadlineMs, MAX_DEADLINE_MS);
  const endless = scenario([connect(), fault.vanish(), wait("600h")], [survives()]);
  assert.throws(() => timePlan(endless, 60_000), /would run longer than the runner can time/);
});
