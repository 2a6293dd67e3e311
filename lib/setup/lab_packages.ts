/**
 * The programs the lab drives and the Debian packages that provide them.
 *
 * @module
 */

/** A program the lab needs, and where it comes from. */
export interface LabProgram {
  binary: string;
  debianPackage: string;
  /** What the lab uses it for. */
  purpose: string;
  /** Whether the lab cannot run at all without it (else: some faults or observers are skipped). */
  required: boolean;
}

/** Every program the lab uses. */
export const LAB_PROGRAMS: readonly LabProgram[] = [
  {
    binary: "ip",
    debianPackage: "iproute2",
    purpose: "namespaces, links, addresses",
    required: true,
  },
  { binary: "ss", debianPackage: "iproute2", purpose: "socket destroy (ss -K)", required: false },
  { binary: "tc", debianPackage: "iproute2", purpose: "rate limits", required: false },
  { binary: "nft", debianPackage: "nftables", purpose: "drops, NAT, ICMP rejects", required: true },
  {
    binary: "iptables",
    debianPackage: "iptables",
    purpose: "host rule snapshots",
    required: false,
  },
  {
    binary: "conntrack",
    debianPackage: "conntrack",
    purpose: "NAT mapping expiry",
    required: false,
  },
  { binary: "tcpdump", debianPackage: "tcpdump", purpose: "packet capture", required: false },
];
