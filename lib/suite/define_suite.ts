/**
 * Suite files: one client-down family per file, default-exporting `defineSuite({...})`.
 * Every field is checked when the file loads, so a mistake is reported with the suite,
 * the scenario id and the field before any lab exists.
 *
 * @module
 */

import { shown } from "../text/shown.ts";
import { type Expectation, EXPECTATION_KINDS, verifierOf } from "../evaluate/verifiers/registry.ts";
import { actionOf } from "../actions/registry.ts";
import { isDownStep, type Step, STEP_KINDS } from "./steps.ts";
import { type Level, LEVELS, type Phase, PHASES } from "../results/schema.ts";

/** Requirement levels (RFC 2119) and phases, declared in the results schema; re-exported here. */
export { type Level, LEVELS, type Phase, PHASES };

/** One case: a situation, the requirement it checks and what is expected. */
export interface Scenario {
  /** Stable id `<family>/<case>`; also the CLI filter. */
  id: string;
  /** What happens, in a few words: "Idle connection, client host vanishes". */
  title: string;
  /** The requirement, in one sentence. */
  requirement: string;
  /** The requirement's level; also the level of each expectation that sets none. */
  level: Level;
  /** RFC sections and man pages the requirement rests on. */
  refs: string[];
  /** Where in the connection's life the client goes down. */
  phase: Phase;
  /** IP family of the connection (default IPv4). */
  family?: "v4" | "v6";
  /** What the client does and what goes wrong, in order. */
  steps: Step[];
  /** What the server must do, each with its budget. */
  expect: Expectation[];
}

/** A family of scenarios. */
export interface Suite {
  /** The family's id, e.g. "vanish": also its file's name. */
  id: string;
  /** What the family is about, in a few words. */
  title: string;
  /** Its scenarios, each with an id `<suite id>/<case>`. */
  scenarios: Scenario[];
}

/** A suite file that is not what it must be; names the suite, scenario and field. */
export class SuiteDefinitionError extends TypeError {
  /** The suite's id. */
  readonly suite: string;
  /** The scenario's id, when the mistake is in one. */
  readonly scenario: string | undefined;
  /** The field, e.g. "steps[2].fault.timeout". */
  readonly field: string;
  /** Names where the mistake is and what was expected. */
  constructor(suite: string, scenario: string | undefined, field: string, expected: string) {
    const where = scenario ? `suite "${suite}", scenario "${scenario}"` : `suite "${suite}"`;
    super(`Invalid ${where}: field "${field}" must be ${expected}`);
    this.name = "SuiteDefinitionError";
    this.suite = suite;
    this.scenario = scenario;
    this.field = field;
  }
}

const SUITE_ID = /^[a-z][a-z0-9-]*$/;
const CASE_ID = /^[a-z0-9][a-z0-9-]*$/;

function checkStep(step: Step, fail: (field: string, expected: string) => never, i: number): void {
  const field = `steps[${i}]`;
  const action = actionOf(step?.kind);
  if (!action) {
    fail(field, `a step (${STEP_KINDS.join(", ")}) (got ${shown(step?.kind ?? step)})`);
  }
  const problem = action.check(step);
  if (problem) fail(`${field}.${problem.field}`, problem.expected);
}

function checkExpectation(
  expectation: Expectation,
  fail: (field: string, expected: string) => never,
  i: number,
): void {
  const field = `expect[${i}]`;
  const verifier = verifierOf(expectation?.kind);
  if (!verifier) {
    fail(
      field,
      `an expectation (${EXPECTATION_KINDS.join(", ")}) (got ${
        shown(expectation?.kind ?? expectation)
      })`,
    );
  }
  const problem = verifier.check(expectation);
  if (problem) fail(`${field}.${problem.field}`, problem.expected);
  if (expectation.level !== undefined && !LEVELS.includes(expectation.level)) {
    fail(`${field}.level`, `one of ${LEVELS.join(", ")} (got ${shown(expectation.level)})`);
  }
}

function checkScenario(suite: Suite, scenario: Scenario, index: number): void {
  const id = typeof scenario?.id === "string" ? scenario.id : undefined;
  const fail = (field: string, expected: string): never => {
    throw new SuiteDefinitionError(suite.id, id ?? `#${index + 1}`, field, expected);
  };
  const [family, caseId, extra] = (id ?? "").split("/");
  if (family !== suite.id || !caseId || !CASE_ID.test(caseId) || extra !== undefined) {
    fail("id", `"${suite.id}/<case>" with a lowercase case name (got ${shown(scenario?.id)})`);
  }
  if (typeof scenario.title !== "string" || !scenario.title) fail("title", "a non-empty string");
  if (typeof scenario.requirement !== "string" || !scenario.requirement) {
    fail("requirement", "the requirement in one sentence");
  }
  if (!LEVELS.includes(scenario.level)) {
    fail("level", `one of ${LEVELS.join(", ")} (got ${shown(scenario.level)})`);
  }
  if (
    !Array.isArray(scenario.refs) || !scenario.refs.length ||
    scenario.refs.some((r) => typeof r !== "string")
  ) {
    fail("refs", `a non-empty list of references such as "RFC 9293 §3.8.4"`);
  }
  if (!PHASES.includes(scenario.phase)) {
    fail("phase", `one of ${PHASES.join(", ")} (got ${shown(scenario.phase)})`);
  }
  if (scenario.family !== undefined && !["v4", "v6"].includes(scenario.family)) {
    fail("family", `"v4" or "v6" (got ${shown(scenario.family)})`);
  }
  if (!Array.isArray(scenario.steps) || !scenario.steps.length) {
    fail("steps", "a non-empty list of steps");
  }
  scenario.steps.forEach((step, i) => checkStep(step, fail, i));
  if (!Array.isArray(scenario.expect) || !scenario.expect.length) {
    fail("expect", "a non-empty list of expectations");
  }
  // A threat that must not end the connection (a NAT's timeout) takes nothing down; with
  // nothing down there is no fault moment, so nothing can be released in time.
  const survivalOnly = scenario.expect.some((e) => e?.kind === "survives") &&
    !scenario.expect.some((e) => e?.kind === "released");
  if (!scenario.steps.some(isDownStep) && !survivalOnly) {
    fail(
      "steps",
      "a list with at least one step that takes the client down (a fault, close, abort, crash, ...), " +
        "unless it expects the connection to survive and nothing to be released",
    );
  }
  scenario.expect.forEach((expectation, i) => checkExpectation(expectation, fail, i));
}

/**
 * Declares a suite and checks every field of it.
 *
 * @example
 * ```ts
 * import { defineSuite } from "./define_suite.ts";
 * import { connect, exchange, fault } from "./steps.ts";
 * import { released, serverAlive } from "./expectations.ts";
 *
 * export default defineSuite({
 *   id: "vanish",
 *   title: "Client host vanishes without a trace",
 *   scenarios: [{
 *     id: "vanish/idle",
 *     title: "Idle connection, client host vanishes",
 *     requirement: "A server releases an idle connection whose client host has vanished",
 *     level: "SHOULD",
 *     refs: ["RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6"],
 *     phase: "idle",
 *     steps: [connect(), exchange(), fault.vanish()],
 *     expect: [released({ within: "10m" }), serverAlive()],
 *   }],
 * });
 * ```
 */
export function defineSuite(suite: Suite): Suite {
  const suiteId = typeof suite?.id === "string" ? suite.id : "(no id)";
  if (typeof suite?.id !== "string" || !SUITE_ID.test(suite.id)) {
    throw new SuiteDefinitionError(suiteId, undefined, "id", 'a lowercase name such as "vanish"');
  }
  if (typeof suite.title !== "string" || !suite.title) {
    throw new SuiteDefinitionError(suiteId, undefined, "title", "a non-empty string");
  }
  if (!Array.isArray(suite.scenarios) || !suite.scenarios.length) {
    throw new SuiteDefinitionError(
      suiteId,
      undefined,
      "scenarios",
      "a non-empty list of scenarios",
    );
  }
  const seen = new Set<string>();
  suite.scenarios.forEach((scenario, i) => {
    checkScenario(suite, scenario, i);
    if (seen.has(scenario.id)) {
      throw new SuiteDefinitionError(suiteId, scenario.id, "id", "unique within the suite");
    }
    seen.add(scenario.id);
  });
  return suite;
}
