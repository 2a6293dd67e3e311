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
