/**
 * NAT at the router: the client's IPv4 traffic leaves from the public address (NAT_PUBLIC_V4)
 * with a short established timeout in conntrack, as a carrier-grade or cloud NAT keeps it.
 * Once the mapping is gone, a stray packet from the server to the public address is answered
 * with an RST by the router ("rst") or dropped silently ("drop"), by an explicit rule: the
 * router's own stack would otherwise answer it with an RST for a port it has no socket on.
 *
 * Install it before the client connects: a connection already open when conntrack starts is
 * picked up mid-stream and would be translated from then on, which breaks it.
 *
 * @module
 */

import { CLIENT, type DualAddress, NAT_PUBLIC_V4, SERVER } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { run } from "../process/spawn.ts";
import { NETLINK_NETFILTER } from "../libc/netlink.ts";
import { forgetConnection } from "./_conntrack.ts";
import { createTable, deleteTable, type FaultTable, once } from "./_nft.ts";
import type { CapabilityName } from "./capabilities.ts";
import { defineFault } from "./fault.ts";
import { FaultUnsupported, unsupportedFault, whenSupported } from "./unsupported.ts";
import { type Duration, durationMsOrUndefined, parseDuration } from "../time/duration.ts";

/** What the router does with a packet to the public address that has no mapping. */
export type StrayPolicy = "rst" | "drop";

/** A NAT in place. */
export interface Nat {
  /** Monotonic ms from which the client's new connections are translated. */
  readonly t: number;
  /** The address the server sees. */
  readonly publicAddress: string;
  /** Removes the NAT and restores the router's timeout; resolves with the monotonic ms. */
  undo(): Promise<number>;
}

/** What a NAT needs: RSTs for strays need the router to send them. */
function natNeeds(strays: StrayPolicy): CapabilityName[] {
  return [
    "nft",
    "nat",
    "conntrackTimeout",
    ...(strays === "rst" ? ["rejectTcpReset" as const] : []),
  ];
}

const EXPIRE_NEEDS: readonly CapabilityName[] = ["conntrack"];

const TIMEOUT_KEY = "net.netfilter.nf_conntrack_tcp_timeout_established";

async function sysctl(netns: string, ...args: string[]): Promise<string> {
  return (await run(["sysctl", ...args], { netns })).stdout.trim();
}

/**
 * Translates the client's IPv4 traffic to the server; mappings of established connections
 * expire after `establishedTimeoutS` seconds of silence.
 *
 * A packet from the client after its mapping expired is picked up by conntrack mid-stream
 * and gets a new mapping (usually with the same port), as a Linux NAT does; one conntrack
 * cannot track (e.g. an RST with no mapping) is dropped rather than leak the private address.
 *
 * @example
 * ```ts
 * import { installNat } from "./nat.ts";
 * import { FaultUnsupported } from "./unsupported.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * const nat = await installNat(lab, { establishedTimeoutS: 350, strays: "drop" });
 * if (!(nat instanceof FaultUnsupported)) await nat.undo();
 * await lab.teardown();
 * ```
 */
export async function installNat(
  lab: Lab,
  options: { establishedTimeoutS: number; strays: StrayPolicy; client?: DualAddress },
): Promise<Nat | FaultUnsupported> {
  const unsupported = await unsupportedFault("nat", natNeeds(options.strays));
  if (unsupported) return unsupported;
  const { establishedTimeoutS, strays } = options;
  if (!Number.isInteger(establishedTimeoutS) || establishedTimeoutS < 1) {
    throw new RangeError(`Invalid establishedTimeoutS: "${establishedTimeoutS}"`);
  }
  const client = options.client ?? CLIENT;
  const router = lab.hosts.router;
  const table: FaultTable = { netns: router, family: "ip", name: "cd_nat" };
  // input: a packet still addressed to the public address here matched no mapping (a mapped
  // reply is translated back to the client in prerouting, before this hook), even when
  // conntrack's loose pickup made a new entry for it; the verdict is explicit, so neither the
  // router's own stack nor that entry decides it. Rejected or dropped, the entry is never
  // confirmed: no mapping is left behind.
  const stray = strays === "rst" ? "reject with tcp reset" : "drop";
  await createTable(
    table,
    ` chain postrouting {
  type nat hook postrouting priority srcnat; policy accept;
  oifname "r1" ip saddr ${client.v4} snat to ${NAT_PUBLIC_V4}
 }
 chain forward {
  type filter hook forward priority filter - 5; policy accept;
  oifname "r1" ip saddr ${client.v4} ct state invalid counter drop
 }
 chain input {
  type filter hook input priority filter - 5; policy accept;
  ip daddr ${NAT_PUBLIC_V4} meta l4proto tcp counter ${stray}
 }`,
  );
  // Conntrack's timeouts are the namespace's own: the host's are never touched.
  const previous = await sysctl(router, "-n", TIMEOUT_KEY);
  await sysctl(router, "-q", "-w", `${TIMEOUT_KEY}=${establishedTimeoutS}`);
  const t = monotonicMs();
  return {
    t,
    publicAddress: NAT_PUBLIC_V4,
    undo: once(async () => {
      await sysctl(router, "-q", "-w", `${TIMEOUT_KEY}=${previous}`);
      return await deleteTable(table);
    }),
  };
}

/**
 * Forgets the NAT's mapping of the client's connection from `clientPort` to the server's
 * `serverPort` now, as if its timeout had passed: deleted through ctnetlink, with no process
 * started.
 *
 * @example
 * ```ts
 * import { expireNatNow } from "./nat.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * // ... a NAT in place, a client connected from port 40000 to a server on port 8080 ...
 * console.log(await expireNatNow(lab, { clientPort: 40000, serverPort: 8080 }));
 * await lab.teardown();
 * ```
 */
export function expireNatNow(
  lab: Lab,
  connection: { clientPort: number; serverPort: number; client?: DualAddress },
): Promise<{ sentAt: number; t: number; deleted: number } | FaultUnsupported> {
  return whenSupported("nat-expiry", EXPIRE_NEEDS, () => {
    const done = forgetConnection(lab.netlink("router", NETLINK_NETFILTER), {
      src: (connection.client ?? CLIENT).v4,
      dst: SERVER.v4,
      sport: connection.clientPort,
      dport: connection.serverPort,
    });
    return { sentAt: done.sentAt, t: done.doneAt, deleted: done.deleted };
  });
}

const STRAYS: readonly StrayPolicy[] = ["rst", "drop"];

/** The fault `nat`: a NAT at the router with a short established-connection timeout. */
export const natFault = defineFault({
  name: "nat",
  actor: "router",
  summary: "a NAT at the router whose mappings expire after the given idle time",
  takesClientDown: false,
  needs: ({ strays }: { strays: StrayPolicy }) => natNeeds(strays),
  params: (timeout: Duration, strays: StrayPolicy) => ({ timeout, strays }),
  check: ({ timeout, strays }) => {
    const ms = durationMsOrUndefined(timeout);
    if (ms === undefined) return { field: "timeout", expected: 'a duration like "30s"' };
    if (ms < 1000) return { field: "timeout", expected: "at least 1s (conntrack counts seconds)" };
    return STRAYS.includes(strays) ? undefined : { field: "strays", expected: '"rst" or "drop"' };
  },
  apply: async ({ lab }, { timeout, strays }) => {
    const timeoutS = Math.round(parseDuration(timeout) / 1000);
    const nat = await installNat(lab, { establishedTimeoutS: timeoutS, strays });
    return nat instanceof FaultUnsupported ? nat : {
      t: nat.t,
      detail: `timeout ${timeoutS} s, strays ${strays}`,
      clientAddressSeen: nat.publicAddress,
      natTimeoutMs: timeoutS * 1000,
      natStrays: strays,
    };
  },
});

/** The fault `nat-expire`: the NAT forgets the client's mappings now. */
export const natExpireFault = defineFault({
  name: "nat-expire",
  actor: "router",
  summary: "the NAT forgets the connection's mapping now, as if its timeout had passed",
  takesClientDown: true,
  needs: EXPIRE_NEEDS,
  apply: async ({ lab, natStrays, clientPort, serverPort }) => {
    if (clientPort === undefined) throw new Error('Fault "nat-expire" needs a connection first');
    const done = await expireNatNow(lab, { clientPort, serverPort });
    return done instanceof FaultUnsupported ? done : {
      t: done.t,
      sentAt: done.sentAt,
      detail: `${done.deleted} mapping(s) forgotten`,
      // The server's next packet is a stray: the router answers it, or drops it.
      peer: natStrays === "rst" ? "resets" : "silent",
    };
  },
});
