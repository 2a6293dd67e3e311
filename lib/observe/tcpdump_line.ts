/**
 * Parses tcpdump's text output for TCP, as printed by
 * `tcpdump -n -tt --time-stamp-precision=micro -S -vv`: absolute sequence numbers, and `-vv`
 * so that segments without payload show their sequence number too (keepalive and
 * zero-window probes are such segments). With `-v`, IPv4 packets take two lines: the IP header,
 * then the TCP part indented on the next line.
 *
 * @module
 */

/** A TCP flag as tcpdump shows it: S F R P . U E W. */
export type TcpFlag = "SYN" | "FIN" | "RST" | "PSH" | "ACK" | "URG" | "ECE" | "CWR";

const FLAGS: Record<string, TcpFlag> = {
  S: "SYN",
  F: "FIN",
  R: "RST",
  P: "PSH",
  ".": "ACK",
  U: "URG",
  E: "ECE",
  W: "CWR",
};

/** One TCP segment as tcpdump printed it. */
export interface TcpdumpPacket {
  /** Capture time, milliseconds since the epoch (CLOCK_REALTIME). */
  wallMs: number;
  src: { address: string; port: number };
  dst: { address: string; port: number };
  flags: TcpFlag[];
  /** First sequence number (absolute); undefined when tcpdump did not print it. */
  seq: number | undefined;
  /** Acknowledgment number, when the ACK flag is set. */
  ack: number | undefined;
  /** The window field as sent (not scaled). */
  window: number | undefined;
  /** Payload bytes (a GSO super-segment may exceed the MTU). */
  length: number;
}

const TIMESTAMP = /^(\d+)\.(\d{6})\s/;
const ENDPOINTS = /\s(\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\]/;

/** Joins the continuation lines of tcpdump's `-v` output to the line they belong to. */
export function tcpdumpRecords(text: string): string[] {
  const records: string[] = [];
  for (const line of text.split("\n")) {
    if (/^\s/.test(line) && records.length > 0) records[records.length - 1] += " " + line.trim();
    else if (line.trim() !== "") records.push(line);
  }
  return records;
}

/** One ICMP or ICMPv6 "destination unreachable" message as tcpdump printed it. */
export interface TcpdumpUnreachable {
  /** Capture time, milliseconds since the epoch (CLOCK_REALTIME). */
  wallMs: number;
  /** Who sent it (the router) and to whom (the server). */
  src: string;
  dst: string;
  /** What it says, as tcpdump words it, e.g. "host 203.0.113.7 unreachable - admin prohibited filter". */
  says: string;
  /** The TCP port the quoted packet was sent to (IPv4: tcpdump prints the quoted packet). */
  quotedDstPort?: number;
  /** The protocol of the quoted packet, e.g. "TCP", "UDP" (IPv4; ICMPv6's quote is not printed). */
  quotedProtocol?: string;
}

/** The quoted IPv4 header's protocol: "proto TCP (6)". */
const QUOTED_PROTOCOL = /\bproto (\w+) \(\d+\)/;
const ICMP_HEADER = /\s(\S+) > (\S+): (?:\[icmp6 sum ok\] )?ICMP6?[ ,]\s*(.*)$/;

/**
 * Parses one record of tcpdump output that is an ICMP(v6) destination unreachable message;
 * undefined for anything else. Its quoted packet is never a segment of its own: a record that
 * parses here must not be parsed with {@linkcode parseTcpdumpLine}.
 */
export function parseTcpdumpUnreachable(record: string): TcpdumpUnreachable | undefined {
  const time = TIMESTAMP.exec(record);
  // The first line is the IP header; the ICMP header follows on its continuation.
  const icmp = ICMP_HEADER.exec(record);
  if (!time || !icmp) return undefined;
  const [, src = "", dst = "", rest = ""] = icmp;
  const says = rest.replace(/^destination unreachable, /, "").split(/, length \d+/)[0]?.trim() ??
    "";
  if (!/unreachable|prohibited/.test(says)) return undefined;
  const quoted = ENDPOINTS.exec(rest);
  const protocol = QUOTED_PROTOCOL.exec(rest)?.[1];
  return {
    wallMs: Number(time[1]) * 1000 + Number(time[2]) / 1000,
    src,
    dst,
    says,
    ...(quoted ? { quotedDstPort: Number(quoted[4]) } : {}),
    ...(protocol ? { quotedProtocol: protocol } : {}),
  };
}

/** Parses one record of tcpdump output; undefined for anything that is not a TCP segment. */
export function parseTcpdumpLine(record: string): TcpdumpPacket | undefined {
  const time = TIMESTAMP.exec(record);
  const ends = ENDPOINTS.exec(record);
  if (!time || !ends) return undefined;
  const [, srcAddress = "", srcPort = "", dstAddress = "", dstPort = "", flagText = ""] = ends;
  const flags = flagText === "none"
    ? []
    : [...flagText].map((c) => FLAGS[c]).filter((f): f is TcpFlag => f !== undefined);
  // Fields after the flags only: the IP header before them has its own "length".
  const tcp = record.slice((ends.index ?? 0) + ends[0].length);
  const field = (name: string): number | undefined => {
    const match = new RegExp(`, ${name} (\\d+)`).exec(tcp);
    return match ? Number(match[1]) : undefined;
  };
  const length = /, length (\d+)/.exec(tcp);
  return {
    wallMs: Number(time[1]) * 1000 + Number(time[2]) / 1000,
    src: { address: srcAddress, port: Number(srcPort) },
    dst: { address: dstAddress, port: Number(dstPort) },
    flags,
    seq: field("seq"),
    ack: field("ack"),
    window: field("win"),
    length: length ? Number(length[1]) : 0,
  };
}
