import assert from "node:assert/strict";
import { defineSuite, type Scenario, SuiteDefinitionError } from "./define_suite.ts";
import { released, serverAlive } from "./expectations.ts";
import { connect, exchange, fault, type Step } from "./steps.ts";

const good: Scenario = {
  id: "vanish/idle",
  title: "Idle connection, client host vanishes",
  requirement: "A server releases an idle connection whose client host has vanished",
  level: "SHOULD",
  refs: ["RFC 9293 §3.8.4"],
  phase: "idle",
  steps: [connect(), exchange(), fault.vanish()],
  expect: [released({ within: "10m" }), serverAlive()],
};

function suiteWith(patch: Record<string, unknown>) {
  return { id: "vanish", title: "Vanish", scenarios: [{ ...good, ...patch } as Scenario] };
}

Deno.test("defineSuite accepts a well-formed suite as it is", () => {
  const suite = suiteWith({});
  assert.equal(defineSuite(suite), suite);
});

Deno.test("defineSuite names the scenario and field of each mistake", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { level: "MUSTNT" },
      /scenario "vanish\/idle": field "level" must be one of MUST, SHOULD, MAY \(got "MUSTNT"\)/,
    ],
    [{ requirement: undefined }, /field "requirement"/],
    [{ id: "fin/idle" }, /field "id" must be "vanish\/<case>"/],
    [{ refs: [] }, /field "refs"/],
    [{ phase: "lunch" }, /field "phase"/],
    [
      { steps: [connect(), { kind: "fault", fault: { name: "meteor" } } as unknown as Step] },
      /field "steps\[1\]\.fault" must be a known fault .*got "meteor"/,
    ],
    [
      { steps: [connect(), exchange()] },
      /field "steps" must be a list with at least one step that takes the client down/,
    ],
    [
      { steps: [connect(), { kind: "wait", duration: "soon" }, fault.vanish()] },
      /field "steps\[1\]\.duration" must be a duration/,
    ],
    [{ expect: [released({ within: "ten minutes" })] }, /field "expect\[0\]\.within"/],
    [{ expect: [{ kind: "happy" }] }, /field "expect\[0\]" must be an expectation/],
  ];
  for (const [patch, message] of cases) {
    assert.throws(() => defineSuite(suiteWith(patch)), (error: unknown) => {
      assert(error instanceof SuiteDefinitionError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("defineSuite rejects duplicate scenario ids", () => {
  assert.throws(
    () => defineSuite({ id: "vanish", title: "Vanish", scenarios: [good, good] }),
    /scenario "vanish\/idle": field "id" must be unique within the suite/,
  );
});
