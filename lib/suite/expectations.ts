/**
 * What a scenario expects of the server, each with its budget. A broken expectation is a
 * `fail` under MUST, a `warn` under SHOULD and `info` under MAY.
 *
 * @module
 */

import type { Duration } from "./duration.ts";

/** An expectation checked after the steps. */
export type Expectation =
  | { kind: "released"; within: Duration }
  | { kind: "survives"; for?: Duration }
  | { kind: "server-alive" }
  | { kind: "others-served"; within: Duration }
  | { kind: "response-delivered" }
  | { kind: "resources-restored" };

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
export const released = (options: { within: Duration }): Expectation => ({
  kind: "released",
  within: options.within,
});
/** The connection is still usable after the steps (an exchange on it succeeds), optionally after waiting. */
export const survives = (options: { for?: Duration } = {}): Expectation => ({
  kind: "survives",
  ...options,
});
/** The server process is still running at the end (no SIGPIPE death, no crash). */
export const serverAlive = (): Expectation => ({ kind: "server-alive" });
/** A second, healthy client keeps getting answers, each within this latency, during the fault. */
export const othersServed = (options: { within: Duration } = { within: "1s" }): Expectation => ({
  kind: "others-served",
  within: options.within,
});
/** The client read the whole response to the request it sent. */
export const responseDelivered = (): Expectation => ({ kind: "response-delivered" });
/** The server's fd count and memory return to their baseline after the clients died. */
export const resourcesRestored = (): Expectation => ({ kind: "resources-restored" });
