import assert from "node:assert/strict";
import { faultSteps } from "../faults/registry.ts";
import { actionFor, actionOf, ACTIONS, isDownStep, STEP_KINDS } from "./registry.ts";

Deno.test("every step kind has its action, found by that kind", () => {
  for (const kind of STEP_KINDS) assert.equal(actionOf(kind)?.kind, kind);
  assert.equal(STEP_KINDS.length, Object.keys(ACTIONS).length);
  assert.equal(actionOf("meteor"), undefined);
  assert.equal(actionOf("toString"), undefined, "only the registry's own entries");
  assert.throws(() => actionFor({ kind: "meteor" } as never), TypeError);
});

Deno.test("which steps take the client down: the first one is the fault moment", () => {
  const down = STEP_KINDS.filter((kind) =>
    kind !== "fault" && kind !== "wait" && kind !== "churn" &&
    isDownStep({ kind } as never)
  );
  assert.deepEqual(down, ["stop-reading", "half-close", "close", "abort", "crash", "freeze"]);
  assert.ok(isDownStep({ kind: "churn", clients: 10, then: "abort" }));
  assert.ok(isDownStep({ kind: "fault", fault: faultSteps.vanish() }));
  assert.ok(!isDownStep({ kind: "fault", fault: faultSteps.heal() }));
  assert.ok(!isDownStep({ kind: "wait", duration: "1s" }));
});

Deno.test("who acts in each step", () => {
  const actors = Object.fromEntries(
    STEP_KINDS.filter((k) => k !== "fault" && k !== "churn" && k !== "wait")
      .map((kind) => [kind, actionOf(kind)?.actor({ kind } as never)]),
  );
  assert.deepEqual(new Set(Object.values(actors)), new Set(["client", "client-host"]));
  assert.equal(actors.crash, "client-host");
  assert.equal(actors.abort, "client");
});
