/**
 * Every expectation kind, by the name a suite file calls it with (`released(...)`,
 * `othersServed()`). Evaluation, the runner's wait and the suite DSL's validation look
 * verifiers up here; adding an expectation is its own module, one entry here, and its test.
 *
 * @module
 */

import { othersServedVerifier } from "./others_served.ts";
import { releasedVerifier } from "./released.ts";
import { releasedByVerifier } from "./released_by.ts";
import { resourcesRestoredVerifier } from "./resources_restored.ts";
import { responseDeliveredVerifier } from "./response_delivered.ts";
import { serverAliveVerifier } from "./server_alive.ts";
import { survivesVerifier } from "./survives.ts";
import type { Level } from "../../results/schema.ts";
import type { Verifier } from "./verifier.ts";

/** The registry: builder name → verifier. */
export const VERIFIERS = {
  released: releasedVerifier,
  releasedBy: releasedByVerifier,
  survives: survivesVerifier,
  serverAlive: serverAliveVerifier,
  othersServed: othersServedVerifier,
  responseDelivered: responseDeliveredVerifier,
  resourcesRestored: resourcesRestoredVerifier,
} as const;

/** The registry's type: builder name → verifier. */
export type Verifiers = typeof VERIFIERS;

/** An expectation of a scenario: one of the registry's kinds, with its parameters. */
export type Expectation =
  & { [K in keyof Verifiers]: ReturnType<Verifiers[K]["build"]> }[keyof Verifiers]
  & { level?: Level };

/** Every expectation kind, for validation and listing. */
export const EXPECTATION_KINDS: readonly Expectation["kind"][] = Object.values(VERIFIERS).map((
  v,
) => v.kind);

// deno-lint-ignore no-explicit-any
type AnyVerifier = Verifier<any, any>;

/** The verifier of an expectation kind, or undefined for an unknown kind. */
export function verifierOf(kind: string): AnyVerifier | undefined {
  return Object.values(VERIFIERS).find((v) => v.kind === kind);
}

/** The builders, named as in suite files: `expectations.released({ within: "10m" })`. */
export const expectations = Object.fromEntries(
  Object.entries(VERIFIERS).map(([key, verifier]) => [key, verifier.build]),
) as { [K in keyof Verifiers]: Verifiers[K]["build"] };
