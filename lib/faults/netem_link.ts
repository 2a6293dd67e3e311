/**
 * Delay and random loss on the client's link (netem), both ways, for the client only.
 * Kernels built without sch_netem cannot do either: the faults then return FaultUnsupported
 * with the kernel's own words, and the runner reports a skip.
 *
 * @module
 */

import { CLIENT, type DualAddress } from "../lab/address_plan.ts";
import { type Duration, durationMsOrUndefined, parseDuration } from "../time/duration.ts";
import type { Lab } from "../lab/lab.ts";
import { shapeClient } from "./_client_shaping.ts";
import type { ShapedLink } from "./slow_link.ts";
import type { CapabilityName } from "./capabilities.ts";
import { defineFault } from "./fault.ts";
import { FaultUnsupported, unsupportedFault } from "./unsupported.ts";

const NEEDS: readonly CapabilityName[] = ["nft", "htb", "netem"];

async function netemLink(
  lab: Lab,
  fault: string,
  netem: string,
  client: DualAddress | undefined,
): Promise<ShapedLink | FaultUnsupported> {
  const unsupported = await unsupportedFault(fault, NEEDS);
  if (unsupported) return unsupported;
  return await shapeClient(lab, client ?? CLIENT, `netem ${netem}`);
}

/**
 * Delays each of the client's packets by `delayMs` (± `jitterMs`) in each direction.
 *
 * @example
 * ```ts
 * import { delayLink } from "./netem_link.ts";
 * import { FaultUnsupported } from "./unsupported.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * const delay = await delayLink(lab, { delayMs: 200 });
 * if (delay instanceof FaultUnsupported) console.log(`skip: ${delay.reason}`);
 * else await delay.undo();
 * await lab.teardown();
 * ```
 */
export function delayLink(
  lab: Lab,
  options: { delayMs: number; jitterMs?: number; client?: DualAddress },
): Promise<ShapedLink | FaultUnsupported> {
  const jitter = options.jitterMs ? ` ${options.jitterMs}ms` : "";
  return netemLink(lab, "delay-link", `delay ${options.delayMs}ms${jitter}`, options.client);
}

/**
 * Drops each of the client's packets with probability `lossPercent` in each direction.
 *
 * @example
 * ```ts
 * import { lossyLink } from "./netem_link.ts";
 * import { FaultUnsupported } from "./unsupported.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * const loss = await lossyLink(lab, { lossPercent: 10 });
 * if (loss instanceof FaultUnsupported) console.log(`skip: ${loss.reason}`);
 * else await loss.undo();
 * await lab.teardown();
 * ```
 */
export function lossyLink(
  lab: Lab,
  options: { lossPercent: number; client?: DualAddress },
): Promise<ShapedLink | FaultUnsupported> {
  return netemLink(lab, "lossy-link", `loss ${options.lossPercent}%`, options.client);
}

/** The fault `latency`: added delay on the client's link (needs sch_netem). */
export const latencyFault = defineFault({
  name: "latency",
  actor: "router",
  summary: "added delay on the client's link, each way (sch_netem)",
  takesClientDown: false,
  needs: NEEDS,
  params: (delay: Duration) => ({ delay }),
  check: ({ delay }) =>
    durationMsOrUndefined(delay) === undefined
      ? { field: "delay", expected: 'a duration like "100ms"' }
      : undefined,
  apply: async ({ lab }, { delay }) => {
    const shaped = await delayLink(lab, { delayMs: parseDuration(delay) });
    return shaped instanceof FaultUnsupported ? shaped : { t: shaped.t };
  },
});
