/**
 * What a scenario expects of the server, each with its budget: the builders of the verifier
 * registry (lib/evaluate/verifiers/registry.ts), named as suite files call them. A broken expectation
 * is a `fail` under MUST, a `warn` under SHOULD and `info` under MAY. Its level is the
 * scenario's, unless the expectation sets its own: `serverAlive()` and `othersServed()` are
 * MUSTs in every scenario, whatever the level of the requirement they ride along with.
 *
 * @module
 */

import {
  expectations as registryBuilders,
  type Verifiers,
} from "../evaluate/verifiers/registry.ts";

export { type Expectation, EXPECTATION_KINDS } from "../evaluate/verifiers/registry.ts";

/**
 * Every expectation's builder, by the name the registry gives it: `expectations.released(...)`.
 * A new expectation is here as soon as it is in the registry.
 */
export const expectations: { [K in keyof Verifiers]: Verifiers[K]["build"] } = registryBuilders;

/** The server stops holding the connection (closes its fd or the kernel frees it) within the budget. */
export const released: Verifiers["released"]["build"] = registryBuilders.released;
/** The connection is still usable after the steps (an exchange on it succeeds), optionally after waiting. */
export const survives: Verifiers["survives"]["build"] = registryBuilders.survives;
/**
 * The server process is still running at the end (no SIGPIPE death, no crash). Always a MUST:
 * a server that dies has failed every client it had, whatever the scenario's requirement.
 */
export const serverAlive: Verifiers["serverAlive"]["build"] = registryBuilders.serverAlive;
/**
 * A second, healthy client keeps getting answers, each within this latency, during the fault.
 * A MUST unless `level` says otherwise: one dead client must not stall everyone else.
 */
export const othersServed: Verifiers["othersServed"]["build"] = registryBuilders.othersServed;
/** The client read the whole response to the request it sent. */
export const responseDelivered: Verifiers["responseDelivered"]["build"] =
  expectations.responseDelivered;
/** The server's fd count and memory return to their baseline after the clients died. */
export const resourcesRestored: Verifiers["resourcesRestored"]["build"] =
  expectations.resourcesRestored;
