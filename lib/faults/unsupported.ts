/**
 * The result of a fault this machine cannot build: the runner reports it as
 * "skip: unsupported on this kernel" with the reason, never as a failure.
 *
 * @module
 */

import {
  type Capabilities,
  capabilities,
  type CapabilityName,
  probedCapabilities,
} from "./capabilities.ts";

/**
 * A fault that cannot be built here, and why. Faults return it (they do not throw it), so a
 * caller tells it apart with `instanceof`; it is an Error so a caller may also throw it.
 *
 * @example
 * ```ts
 * import { delayLink } from "./netem_link.ts";
 * import { FaultUnsupported } from "./unsupported.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * const delay = await delayLink(lab, { delayMs: 100 });
 * if (delay instanceof FaultUnsupported) console.log(`skip: ${delay.reason}`);
 * else await delay.undo();
 * await lab.teardown();
 * ```
 */
export class FaultUnsupported extends Error {
  /** The fault's name, e.g. `delay-link`. */
  readonly fault: string;
  /** Why it cannot be built, in the words of the tool or kernel that refused. */
  readonly reason: string;
  constructor(fault: string, reason: string) {
    super(`Fault "${fault}" is unsupported on this machine: ${reason}`);
    this.name = "FaultUnsupported";
    this.fault = fault;
    this.reason = reason;
  }
}

function missing(
  probed: Capabilities,
  fault: string,
  needs: readonly CapabilityName[],
): FaultUnsupported | undefined {
  for (const name of needs) {
    const capability = probed[name];
    if (!capability.supported) return new FaultUnsupported(fault, `${name}: ${capability.reason}`);
  }
  return undefined;
}

/**
 * Consults the capability probe: a FaultUnsupported naming the first missing capability of
 * `needs`, or undefined when all of them are there.
 */
export async function unsupportedFault(
  fault: string,
  needs: readonly CapabilityName[],
): Promise<FaultUnsupported | undefined> {
  return missing(await capabilities(), fault, needs);
}

/**
 * Does `act` when the machine has what `needs` names, else returns why not. Once the probe has
 * run (the runner probes before any scenario), `act` runs in the same synchronous run as the
 * call: nothing else the runner has queued can come between a fault being asked for and it
 * acting.
 */
export function whenSupported<T>(
  fault: string,
  needs: readonly CapabilityName[],
  act: () => T,
): Promise<T | FaultUnsupported> {
  const probed = probedCapabilities();
  if (!probed) return unsupportedFault(fault, needs).then((no) => no ?? act());
  try {
    return Promise.resolve(missing(probed, fault, needs) ?? act());
  } catch (error) {
    return Promise.reject(error);
  }
}
