/**
 * clientdown certifies how a TCP server behaves when its client goes down mid-connection
 * (resets, closes, crashes, freezes, vanishes, reboots, NAT expiry), with real Linux sockets
 * in real network namespaces, and publishes the results as a Markdown conformance report.
 *
 * This module is the stable library surface: the suite DSL (`defineSuite`, steps, `fault`,
 * expectations), `defineTarget` for your own server, the results contract, the runner
 * (`certifyTarget`, needs root), the renderers (Markdown, JUnit XML, index JSON), and merging
 * and comparing results. Run as a program, it is the CLI:
 * `deno run --allow-all mod.ts certify|suite|list|check|report|merge|diff|doctor` (see `--help`).
 *
 * @example A suite file: one family, each scenario reads like the requirement it checks
 * ```ts
 * import { connect, defineSuite, exchange, fault, othersServed, released, serverAlive } from "./mod.ts";
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
 *     expect: [released({ within: "10m" }), serverAlive(), othersServed()],
 *   }],
 * });
 * ```
 *
 * @example Certify your own server (needs root: every scenario gets its own network namespaces)
 * ```ts ignore
 * import { certifyTarget, defineTarget, renderTargetReport } from "./mod.ts";
 * import vanish from "./suites/vanish.ts";
 *
 * const echo = defineTarget({
 *   id: "my-echo",
 *   title: "my echo server",
 *   port: 7000,
 *   start: ({ address, port }) => ({ argv: ["my-echo", "--listen", `${address}:${port}`] }),
 *   protocol: {
 *     request: { send: "PING\n", until: "PONG\n" },
 *     partialRequest: "PI",
 *     largeRequest: { send: "BIG 67108864\n", responseBytes: 67108864 },
 *   },
 * });
 * const results = await certifyTarget(echo, vanish.scenarios, { deadlineMs: 60_000, concurrency: 8 });
 * await Deno.writeTextFile("my-echo.md", renderTargetReport(results));
 * ```
 *
 * @module
 */

export {
  defineSuite,
  type Level,
  LEVELS,
  type Phase,
  PHASES,
  type Scenario,
  type Suite,
  SuiteDefinitionError,
} from "./lib/suite/define_suite.ts";
export {
  abort,
  churn,
  close,
  connect,
  crash,
  exchange,
  fault,
  type FaultStep,
  freeze,
  halfClose,
  keepReading,
  readResponse,
  requestLarge,
  sendPartial,
  sendRequest,
  type Step,
  thaw,
  wait,
} from "./lib/suite/steps.ts";
export {
  type Expectation,
  expectations,
  othersServed,
  released,
  resourcesRestored,
  responseDelivered,
  serverAlive,
  survives,
} from "./lib/suite/expectations.ts";
export { type Duration, parseDuration } from "./lib/time/duration.ts";
// What built-in targets use in version() (and a target's own helpers): a bounded command.
export { CommandError, run, type RunResult, type SpawnOptions } from "./lib/process/spawn.ts";
export {
  defineTarget,
  type Exchange,
  hex,
  type Payload,
  type StartContext,
  type StartSpec,
  type TargetDefinition,
  TargetDefinitionError,
  type TargetProtocol,
  type TargetVariant,
} from "./lib/target/define_target.ts";
export {
  type ExpectationActual,
  type ExpectationResult,
  type HarnessFigures,
  type Measurements,
  type Prediction,
  RELEASE_HOWS,
  type ReleaseHow,
  type Results,
  RESULTS_SCHEMA,
  type ScenarioResult,
  type SocketOptions,
  type SocketOptionsRead,
  type TcpSysctls,
  TIMELINE_KINDS,
  type TimelineEvent,
  type TimelineKind,
  type Verdict,
  VERDICTS,
} from "./lib/results/schema.ts";
// The zod schemas the result types above are the types of: exported so that `deno doc` can
// resolve those types, and left out of the docs (`@ignore`): zod is no part of the API.
export {
  expectationActualSchema,
  expectationResultSchema,
  harnessFiguresSchema,
  measurementsSchema,
  predictionSchema,
  resultsSchema,
  scenarioResultSchema,
  socketOptionsReadSchema,
  socketOptionsSchema,
  tcpSysctlsSchema,
  timelineEventSchema,
} from "./lib/results/schema.ts";
export {
  type ResultsProblem,
  type ResultsValidation,
  validateResults,
} from "./lib/results/validate_results.ts";
export { certifyTarget } from "./lib/runner/certify_target.ts";
export type { ProgressEvent, RunOptions } from "./lib/runner/run_options.ts";
export type { Gate } from "./lib/runner/pool.ts";
export { FAULTS, type Faults } from "./lib/faults/registry.ts";
export { VERIFIERS, type Verifiers } from "./lib/evaluate/verifiers/registry.ts";
export { renderTargetReport } from "./lib/report/target_report.ts";
export { renderIndex } from "./lib/report/index_report.ts";
export { renderJunit } from "./lib/report/junit.ts";
export { buildIndex, renderIndexJson } from "./lib/report/index_json.ts";
export {
  INDEX_SCHEMA,
  type IndexScenario,
  indexScenarioSchema,
  type IndexTarget,
  indexTargetSchema,
  type ResultsIndex,
  resultsIndexSchema,
} from "./lib/report/index_schema.ts";
export { MergeError, type MergeInput, mergeResults } from "./lib/results/merge.ts";
export {
  type DiffLine,
  diffResults,
  formatDiff,
  isWorse,
  type ResultsDiff,
} from "./lib/results/diff.ts";

// The CLI loads only when this module runs as a program, not for library users.
// No top-level await: a user's target file imports this module while the CLI is loading it,
// and must not wait for the CLI to finish.
if (import.meta.main) {
  import("./lib/cli/main.ts").then(({ main }) => main(Deno.args)).then((code) => Deno.exit(code));
}
