import assert from "node:assert/strict";
import { defineSuite, type Scenario, SuiteDefinitionError } from "./define_suite.ts";
import { othersServed, released, serverAlive, survives } from "./expectations.ts";
import { connect, exchange, fault, requestLarge, type Step, stopReading } from "./steps.ts";

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
    [
      { expect: [{ kind: "server-alive", level: "OFTEN" }] },
      /field "expect\[0\]\.level" must be one of MUST, SHOULD, MAY \(got "OFTEN"\)/,
    ],
    [
      {
        steps: [fault.nat("4m", "drop"), connect(), exchange()],
        expect: [survives({ for: "15m" }), released({ within: "10m" })],
      },
      /field "steps" must be a list with at least one step that takes the client down/,
    ],
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

Deno.test("defineSuite accepts a scenario that takes nothing down when it only checks survival", () => {
  const suite = suiteWith({
    steps: [fault.nat("4m", "drop"), connect(), exchange()],
    expect: [survives({ for: "15m" }), serverAlive(), othersServed()],
  });
  assert.equal(defineSuite(suite), suite);
});

Deno.test("stopReading takes the client down", () => {
  const suite = suiteWith({ steps: [connect({ rcvBuf: 4096 }), requestLarge(), stopReading()] });
  assert.equal(defineSuite(suite), suite);
});

Deno.test("serverAlive and othersServed are MUSTs unless told otherwise; others take the scenario's", () => {
  assert.deepEqual(serverAlive(), { kind: "server-alive", level: "MUST" });
  assert.deepEqual(othersServed(), { kind: "others-served", within: "1s", level: "MUST" });
  assert.deepEqual(othersServed({ within: "2s", level: "SHOULD" }), {
    kind: "others-served",
    within: "2s",
    level: "SHOULD",
  });
  assert.deepEqual(released({ within: "1s" }), { kind: "released", within: "1s" });
  assert.deepEqual(survives(), { kind: "survives" });
});
