import assert from "node:assert/strict";
import { faultSteps } from "../faults/registry.ts";
import { applyFaultAction } from "./apply_fault.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("a fault step is the fault's: its name, actor, needs and whether it takes the client down", () => {
  const vanish = { kind: "fault", fault: faultSteps.vanish() } as const;
  const reset = { kind: "fault", fault: faultSteps.resetFromHost() } as const;
  assert.equal(applyFaultAction.name(vanish), "vanish");
  assert.equal(applyFaultAction.actor(vanish), "router");
  assert.equal(applyFaultAction.actor(reset), "client-host");
  assert.ok(applyFaultAction.takesClientDown(vanish));
  assert.ok(!applyFaultAction.endsWithSegment(vanish) && applyFaultAction.endsWithSegment(reset));
  assert.deepEqual(applyFaultAction.needs(vanish), ["nft"]);
  assert.ok(!applyFaultAction.takesClientDown({ kind: "fault", fault: faultSteps.heal() }));
});

Deno.test("a fault step's parameters are checked by its fault; an unknown fault is named", () => {
  const meteor = { kind: "fault", fault: { name: "meteor" } } as never;
  const problem = applyFaultAction.check(meteor);
  assert.equal(problem?.field, "fault");
  assert.match(problem?.expected ?? "", /^a known fault \(vanish, heal, .*\) \(got "meteor"\)$/);
  assert.deepEqual(
    applyFaultAction.check({ kind: "fault", fault: faultSteps.nat("500ms", "drop") }),
    { field: "fault.timeout", expected: "at least 1s (conntrack counts seconds)" },
  );
});

Deno.test("a fault step's record is the fault's, and heal undoes the last outage", async () => {
  const { ctx } = fakeContext({ context: { undoLast: () => Promise.resolve(42) } });
  const done = await applyFaultAction.run(ctx, { kind: "fault", fault: faultSteps.heal() });
  assert.deepEqual(done.records, [
    { actor: "router", action: "heal", peer: "answers", t: 42, ok: true },
  ]);
});
