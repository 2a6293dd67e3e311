/**
 * Every fault, by the name a suite file calls it with (`fault.vanish()`, `fault.natExpire()`).
 * The step action `fault` (lib/actions/apply_fault.ts), the suite DSL and its validation look
 * faults up here; adding a fault is its own module, one entry here, and its test.
 *
 * @module
 */

import type { Fault } from "./fault.ts";
import { healFault } from "./heal.ts";
import { icmpUnreachableFault } from "./icmp_unreachable.ts";
import { natExpireFault, natFault } from "./nat.ts";
import { latencyFault } from "./netem_link.ts";
import { rebootFault } from "./reboot.ts";
import { resetFromHostFault } from "./reset_from_host.ts";
import { slowLinkFault } from "./slow_link.ts";
import { vanishFault } from "./vanish.ts";
import { vanishAfterSynFault } from "./vanish_after_syn.ts";

/** The registry: builder name → fault. */
export const FAULTS = {
  vanish: vanishFault,
  heal: healFault,
  reboot: rebootFault,
  vanishAfterSyn: vanishAfterSynFault,
  nat: natFault,
  natExpire: natExpireFault,
  icmpUnreachable: icmpUnreachableFault,
  resetFromHost: resetFromHostFault,
  slowLink: slowLinkFault,
  latency: latencyFault,
} as const;

/** The registry's type: builder name → fault. */
export type Faults = typeof FAULTS;

/** A fault as a step of a scenario: its name and parameters. */
export type FaultStep = {
  [K in keyof Faults]: { name: Faults[K]["name"] } & ReturnType<Faults[K]["params"]>;
}[keyof Faults];

/** Every fault name, for validation and listing. */
export const FAULT_NAMES: readonly FaultStep["name"][] = Object.values(FAULTS).map((f) => f.name);

// deno-lint-ignore no-explicit-any
type AnyFault = Fault<string, any, any>;

/** The fault of a step's name, or undefined for an unknown name. */
export function faultNamed(name: string): AnyFault | undefined {
  return Object.values(FAULTS).find((f) => f.name === name);
}

/** The builders of fault steps' data, named as in suite files: `faultSteps.vanish()`. */
export const faultSteps = Object.fromEntries(
  Object.entries(FAULTS).map(([key, fault]) => [
    key,
    (...args: unknown[]) => ({
      name: fault.name,
      ...(fault.params as AnyFault["params"])(...args),
    }),
  ]),
) as { [K in keyof Faults]: (...args: Parameters<Faults[K]["params"]>) => FaultStep };
