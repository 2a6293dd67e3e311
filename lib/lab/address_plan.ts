/**
 * The lab's address plan: documentation ranges only (RFC 5737, RFC 3849), never routed
 * anywhere real. Every lab uses the same addresses; its namespaces keep them apart.
 *
 * ```
 *  [client host] c0 ── r0 [router] r1 ── s0 [server host]
 * ```
 *
 * @module
 */

/** One host's address in each family. */
export interface DualAddress {
  /** The IPv4 address. */
  v4: string;
  /** The IPv6 address. */
  v6: string;
}

/** IP family of a scenario's connections. */
export type Family = "v4" | "v6";

/** The client under test (the one faults hit). */
export const CLIENT: DualAddress = { v4: "192.0.2.2", v6: "2001:db8:c::2" };
/** A second, healthy client on the same host: the liveness probe. Faults never match it. */
export const BYSTANDER: DualAddress = { v4: "192.0.2.3", v6: "2001:db8:c::3" };
/** The router's client-side interface (r0). */
export const ROUTER_CLIENT_SIDE: DualAddress = { v4: "192.0.2.1", v6: "2001:db8:c::1" };
/** The router's server-side interface (r1). */
export const ROUTER_SERVER_SIDE: DualAddress = { v4: "198.51.100.1", v6: "2001:db8:5::1" };
/** The NAT's public address, on r1, used when a NAT fault is in place (IPv4 only). */
export const NAT_PUBLIC_V4 = "203.0.113.1";
/** The server host (s0). */
export const SERVER: DualAddress = { v4: "198.51.100.2", v6: "2001:db8:5::2" };

/** The prefix length of every lab subnet, per family. */
export const PREFIX: Record<Family, number> = { v4: 24, v6: 64 };
