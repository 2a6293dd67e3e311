/**
 * Slow link: the client's packets, both ways, pass through a token bucket (tbf) at the
 * router; everyone else's do not. The server sees a very slow client.
 *
 * @module
 */

import { CLIENT, type DualAddress } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { shapeClient } from "./_client_shaping.ts";
import type { CapabilityName } from "./capabilities.ts";
import { defineFault } from "./fault.ts";
import { FaultUnsupported, unsupportedFault } from "./unsupported.ts";

const NEEDS: readonly CapabilityName[] = ["nft", "htb", "tbf"];

const FRAME_BYTES = 1514;

/** A shaping fault in place on the client's link. */
export interface ShapedLink {
  /** Monotonic ms at which the shaping took effect. */
  readonly t: number;
  /** Removes it; resolves with the monotonic ms the link is whole again. Idempotent. */
  undo(): Promise<number>;
}

/**
 * Limits the client's traffic to `rateKbit` kilobits per second in each direction. One
 * shaping fault (slow, delay, loss) at a time per lab.
 *
 * @example
 * ```ts
 * import { slowLink } from "./slow_link.ts";
 * import { FaultUnsupported } from "./unsupported.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * const slow = await slowLink(lab, { rateKbit: 64 });
 * if (!(slow instanceof FaultUnsupported)) await slow.undo();
 * await lab.teardown();
 * ```
 */
export async function slowLink(
  lab: Lab,
  options: { rateKbit: number; client?: DualAddress },
): Promise<ShapedLink | FaultUnsupported> {
  const unsupported = await unsupportedFault("slow-link", NEEDS);
  if (unsupported) return unsupported;
  if (!Number.isInteger(options.rateKbit) || options.rateKbit < 8) {
    throw new RangeError(`Invalid rateKbit (an integer of at least 8): "${options.rateKbit}"`);
  }
  // A bucket of two full frames: tbf cuts larger (GSO) packets into frames that fit, so the
  // rate holds per frame and not per 64 kB burst. A second of queue, like a modem's buffer,
  // slows the client down rather than making it lossy.
  const tbf = `tbf rate ${options.rateKbit}kbit burst ${2 * FRAME_BYTES} latency 1s`;
  return await shapeClient(lab, options.client ?? CLIENT, tbf);
}

/** The fault `slow-link`: the client's link shaped to a very low rate at the router. */
export const slowLinkFault = defineFault({
  name: "slow-link",
  actor: "router",
  summary: "the client's link shaped to a very low rate (tc tbf at the router)",
  takesClientDown: false,
  needs: NEEDS,
  params: (rateKbit: number) => ({ rateKbit }),
  check: ({ rateKbit }) =>
    Number.isInteger(rateKbit) && rateKbit >= 8
      ? undefined
      : { field: "rateKbit", expected: "an integer rate of at least 8 kbit/s" },
  apply: async ({ lab }, { rateKbit }) => {
    const shaped = await slowLink(lab, { rateKbit });
    return shaped instanceof FaultUnsupported
      ? shaped
      : { t: shaped.t, detail: `${rateKbit} kbit/s` };
  },
});
