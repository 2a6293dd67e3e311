/**
 * ICMP unreachable: the router answers the server's packets to the client with an ICMP
 * destination-unreachable error (host unreachable, or administratively prohibited) and
 * drops the client's own packets. For an established connection this is a soft error:
 * the server's kernel keeps retransmitting.
 *
 * @module
 */

import type { Lab } from "../lab/lab.ts";
import { wakeTable } from "./_nft.ts";
import type { CapabilityName } from "./capabilities.ts";
import { defineFault } from "./fault.ts";
import { FaultUnsupported, whenSupported } from "./unsupported.ts";

const NEEDS: readonly CapabilityName[] = ["nft", "rejectIcmp"];

/**
 * Which error: `host-unreachable` (ICMP type 3 code 1; ICMPv6 address unreachable) or
 * `admin-prohibited` (ICMP type 3 code 13; ICMPv6 administratively prohibited).
 */
export type UnreachableKind = "host-unreachable" | "admin-prohibited";

/** An ICMP unreachable fault in place. */
export interface IcmpUnreachable {
  /** Monotonic ms just before the system call that made the router answer with ICMP. */
  readonly sentAt: number;
  /** Monotonic ms at which the router started answering with ICMP (that call returned). */
  readonly t: number;
  /** Removes the fault; resolves with the monotonic ms traffic flows again. Idempotent. */
  undo(): Promise<number>;
}

/**
 * Makes the router answer every packet for the client (CLIENT) with the ICMP error: the lab's
 * dormant table for that error wakes.
 *
 * @example
 * ```ts
 * import { icmpUnreachable } from "./icmp_unreachable.ts";
 * import { FaultUnsupported } from "./unsupported.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * const icmp = await icmpUnreachable(lab, { kind: "host-unreachable" });
 * if (!(icmp instanceof FaultUnsupported)) await icmp.undo();
 * await lab.teardown();
 * ```
 */
export function icmpUnreachable(
  lab: Lab,
  options: { kind: UnreachableKind },
): Promise<IcmpUnreachable | FaultUnsupported> {
  return whenSupported(`icmp-${options.kind}`, NEEDS, () => {
    const woken = wakeTable(
      lab,
      options.kind === "host-unreachable" ? "cd_icmp_host_unreachable" : "cd_icmp_admin_prohibited",
    );
    return { sentAt: woken.sentAt, t: woken.t, undo: woken.undo };
  });
}

const KINDS: readonly UnreachableKind[] = ["host-unreachable", "admin-prohibited"];

/** The fault `icmp-unreachable`: the router answers the server's packets with an ICMP error. */
export const icmpUnreachableFault = defineFault({
  name: "icmp-unreachable",
  actor: "router",
  summary: "the router answers the server's packets to the client with an ICMP error",
  takesClientDown: true,
  needs: NEEDS,
  params: (kind: UnreachableKind = "host-unreachable") => ({ kind }),
  check: ({ kind }) =>
    KINDS.includes(kind) ? undefined : { field: "kind", expected: `one of ${KINDS.join(", ")}` },
  apply: async ({ lab }, { kind }) => {
    const icmp = await icmpUnreachable(lab, { kind });
    return icmp instanceof FaultUnsupported
      ? icmp
      : { t: icmp.t, sentAt: icmp.sentAt, detail: kind, undo: icmp.undo, peer: "silent" };
  },
});
