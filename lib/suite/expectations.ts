/**
 * What a scenario expects of the server, each with its budget. A broken expectation is a
 * `fail` under MUST, a `warn` under SHOULD and `info` under MAY. Its level is the scenario's,
 * unless the expectation sets its own: `serverAlive()` and `othersServed()` are MUSTs in
 * every scenario, whatever the level of the requirement they ride along with.
 *
 * @module
 */

import type { Level } from "./define_suite.ts";
import type { Duration } from "../time/duration.ts";

/** An expectation checked after the steps; `level`, when set, replaces the scenario's. */
export type Expectation =
  & (
    | { kind: "released"; within: Duration }
    | { kind: "survives"; for?: Duration }
    | { kind: "server-alive" }
    | { kind: "others-served"; within: Duration }
    | { kind: "response-delivered" }
    | { kind: "resources-restored" }
  )
  & { level?: Level };

/** Every expectation kind, for validation. */
export const EXPECTATION_KINDS: readonly Expectation["kind"][] = [
  "released",
  "survives",
  "server-alive",
  "others-served",
  "response-delivered",
  "resources-restored",
];

/** The server stops holding the connection (closes its fd or the kernel frees it) within the budget. */
export const released = (options: { within: Duration; level?: Level }): Expectation => ({
  kind: "released",
  ...options,
});
/** The connection is still usable after the steps (an exchange on it succeeds), optionally after waiting. */
export const survives = (options: { for?: Duration; level?: Level } = {}): Expectation => ({
  kind: "survives",
  ...options,
});
/**
 * The server process is still running at the end (no SIGPIPE death, no crash). Always a MUST:
 * a server that dies has failed every client it had, whatever the scenario's requirement.
 */
export const serverAlive = (): Expectation => ({ kind: "server-alive", level: "MUST" });
/**
 * A second, healthy client keeps getting answers, each within this latency, during the fault.
 * A MUST unless `level` says otherwise: one dead client must not stall everyone else.
 */
export const othersServed = (
  options: { within?: Duration; level?: Level } = {},
): Expectation => ({
  kind: "others-served",
  within: options.within ?? "1s",
  level: options.level ?? "MUST",
});
/** The client read the whole response to the request it sent. */
export const responseDelivered = (): Expectation => ({ kind: "response-delivered" });
/** The server's fd count and memory return to their baseline after the clients died. */
export const resourcesRestored = (): Expectation => ({ kind: "resources-restored" });
