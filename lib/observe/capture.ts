/**
 * Packet capture at the router with tcpdump: the evidence and the timeline of FINs, RSTs,
 * keepalive probes, retransmissions and zero-window probes, each stamped on the monotonic
 * clock every other event uses. When tcpdump is missing or cannot capture, the capture is
 * reported unavailable: never an exception, since a run without evidence is still a run.
 *
 * @module
 */

import { BYSTANDER } from "../lab/address_plan.ts";
import { SERVER } from "../lab/address_plan.ts";
import type { LabHosts } from "../lab/lab.ts";
import { monotonicMs, realtimeMs } from "../libc/libc.ts";
import { type Child, onPath, spawn } from "../process/spawn.ts";
import { PacketClassifier, type PacketKind } from "./packet_classifier.ts";
import { sameAddress } from "./socket_watch.ts";
import {
  parseTcpdumpLine,
  parseTcpdumpUnreachable,
  tcpdumpRecords,
  type TcpFlag,
} from "./tcpdump_line.ts";

/** Where to capture. */
export interface CaptureOptions {
  /** The router's interface, e.g. "r1" (server side). */
  iface: string;
  /** The server's port: the capture keeps this port's TCP segments only. */
  port: number;
  /** The server's addresses, to tell the directions apart (default: the lab's server). */
  serverAddresses?: readonly string[];
}

/** One captured segment. */
export interface PacketEvent {
  /** Capture time on the monotonic clock (monotonicMs). */
  at: number;
  direction: "server_to_client" | "client_to_server";
  /** The client's end of the connection. */
  client: { address: string; port: number };
  flags: TcpFlag[];
  seq: number | undefined;
  ack: number | undefined;
  window: number | undefined;
  /** Payload bytes. */
  length: number;
  /** What the segment is beyond ordinary traffic (empty for most). */
  kinds: PacketKind[];
}

/** An ICMP(v6) destination unreachable message the router sent to the server. */
export interface UnreachableEvent {
  /** Capture time on the monotonic clock (monotonicMs). */
  at: number;
  /** What it says, without addresses, e.g. "host unreachable - admin prohibited filter". */
  says: string;
  /** The client port of the packet it answers (IPv4 quotes it; IPv6 as tcpdump prints it does not). */
  clientPort?: number;
}

/** What a capture saw. */
export interface Captured {
  /** Every segment of the server's port, in capture order. */
  packets: PacketEvent[];
  /**
   * Every ICMP(v6) destination unreachable message that may concern a TCP connection (one that
   * quotes a UDP datagram or the like is left out), in capture order.
   */
  unreachables: UnreachableEvent[];
  /** Packets the kernel dropped before tcpdump read them; undefined when tcpdump did not say. */
  droppedByKernel?: number;
}

/**
 * The client's last segment (an RST aside) at or before `until`: the last the server heard
 * from it, what its keepalive counts from.
 */
export function lastFromClient(
  packets: readonly PacketEvent[],
  until = Infinity,
): PacketEvent | undefined {
  return packets.filter((p) =>
    p.direction === "client_to_server" && !p.flags.includes("RST") && p.at <= until
  ).at(-1);
}

/**
 * How many packets the kernel dropped before tcpdump read them, from the statistics tcpdump
 * prints as it ends ("3 packets dropped by kernel"); undefined when it printed none.
 */
export function droppedByKernel(stderr: string): number | undefined {
  const m = /(\d+) packets? dropped by kernel/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** A running capture. */
export interface Capture {
  available: true;
  /**
   * Ends tcpdump and returns what it printed, as soon as it has printed everything: its own
   * exit follows (see `exited`).
   */
  stop(): Promise<Captured>;
  /**
   * tcpdump's exit. It prints its last line and its statistics before it closes its capture
   * socket, and the kernel closes a packet socket only after an RCU grace period (about 20 ms
   * here, longer on a busy machine, no CPU): what was captured is complete before that.
   */
  readonly exited: Promise<unknown>;
}

/** Why there is no capture. */
export interface CaptureUnavailable {
  available: false;
  reason: string;
}

/**
 * How far a capture stamp may stray from the monotonic clock: tcpdump stamps the wall clock,
 * converted with an offset read once as the capture starts (a clock adjustment since is the
 * error; the stamps themselves are microseconds).
 */
export const CAPTURE_SLACK_MS = 1;

/** How long tcpdump may take to say it is listening. */
const START_TIMEOUT_MS = 5000;
/** How long tcpdump may take, once asked to stop, to print its last line and statistics. */
const STOP_TIMEOUT_MS = 1000;

/**
 * Whether tcpdump, interrupted, has printed everything: its statistics ("… packets dropped by
 * kernel") on stderr, which it writes after the newline it adds to stdout in case a line was
 * cut short. Once both are read, stdout is complete, though tcpdump has not exited yet.
 */
export function printedAll(stdout: string, stderr: string): boolean {
  return droppedByKernel(stderr) !== undefined && (stdout === "\n" || stdout.endsWith("\n\n"));
}

/**
 * Offset from CLOCK_MONOTONIC to CLOCK_REALTIME, in ms: tcpdump stamps packets with the
 * wall clock, every other observation uses the monotonic one.
 */
function realtimeOffsetMs(): number {
  const before = monotonicMs();
  const real = realtimeMs();
  const after = monotonicMs();
  return real - (before + after) / 2;
}

/** Reads a byte stream to its end as text, calling `onText` as it grows. */
async function collect(
  stream: ReadableStream<Uint8Array>,
  onText: (all: string) => void = () => {},
): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    onText(text);
  }
  return text;
}

/**
 * Starts tcpdump in the lab's router and waits until it listens.
 *
 * @example
 * ```ts ignore
 * const capture = await startCapture(lab, { iface: "r1", port: 80 });
 * // ... the scenario ...
 * const packets = capture.available ? await capture.stop() : [];
 * const probes = packets.filter((p) => p.kinds.includes("keepalive_probe"));
 * ```
 */
export async function startCapture(
  lab: { hosts: LabHosts },
  options: CaptureOptions,
): Promise<Capture | CaptureUnavailable> {
  if (!onPath("tcpdump")) return { available: false, reason: "tcpdump is not installed" };
  const argv = [
    "tcpdump",
    "-i",
    options.iface,
    "-n", // no name lookups
    "-l",
    "--immediate-mode", // each packet as it comes, none held back at stop
    // Headers only (Ethernet 14 + IPv6 40 + TCP 60 = 114; an ICMP error quoting them, 182):
    // every figure is in them, and small frames keep a burst (500 connections of a churn, a
    // 64 KiB segment after another) in the kernel's buffer until tcpdump reads it.
    "-s",
    "256",
    "-tt",
    "--time-stamp-precision=micro",
    "-S", // absolute sequence numbers
    "-vv", // sequence numbers of segments without payload: probes are such segments
    "-K", // no checksum checks: offloaded checksums are not filled in on veth
    // The server's segments, and the router's "destination unreachable" answers to them (ICMP
    // type 3; ICMPv6 type 1, its type byte right after a header without extensions).
    "(",
    "tcp",
    "port",
    String(options.port),
    "or",
    "icmp[icmptype]",
    "==",
    "icmp-unreach",
    "or",
    "(icmp6",
    "and",
    "ip6[40]",
    "==",
    "1)",
    ")",
    // The bystander's exchanges are its own evidence (the liveness probe): leaving them out
    // spares parsing a steady stream of lines.
    "and",
    "not",
    "host",
    BYSTANDER.v4,
    "and",
    "not",
    "host",
    BYSTANDER.v6,
  ];
  let child: Child;
  try {
    child = spawn(argv, { netns: lab.hosts.router, stdout: "piped", stderr: "piped" });
  } catch (error) {
    return { available: false, reason: `tcpdump did not start: ${String(error)}` };
  }
  const offsetMs = realtimeOffsetMs();
  // Both streams as read so far: stop() takes them once tcpdump has printed everything.
  let out = "";
  let err = "";
  let printed: () => void = () => {};
  const allPrinted = new Promise<void>((resolve) => printed = resolve);
  const onText = () => {
    if (printedAll(out, err)) printed();
  };
  const stdout = collect(child.process.stdout, (text) => {
    out = text;
    onText();
  });
  let listening: () => void = () => {};
  const heard = new Promise<void>((resolve) => listening = resolve);
  const stderr = collect(child.process.stderr, (text) => {
    err = text;
    if (text.includes("listening on")) listening();
    onText();
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) =>
    timer = setTimeout(() => resolve("late"), START_TIMEOUT_MS)
  );
  const started = await Promise.race([heard, child.status, late]);
  clearTimeout(timer);
  if (started !== undefined) {
    await child.end();
    await stdout;
    const said = (await stderr).trim();
    return {
      available: false,
      reason: `tcpdump did not start capturing on "${options.iface}"${said ? `: ${said}` : ""}`,
    };
  }
  const servers = options.serverAddresses ?? [SERVER.v4, SERVER.v6];
  return {
    available: true,
    exited: Promise.all([child.status, stdout, stderr]),
    async stop() {
      // An interrupted tcpdump prints all before it exits; a version that does not say so is
      // waited for until it has exited.
      const ended = child.end();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        allPrinted,
        ended,
        new Promise((resolve) => timer = setTimeout(resolve, STOP_TIMEOUT_MS)),
      ]);
      clearTimeout(timer);
      const [text, said] = printedAll(out, err)
        ? [out, err]
        : await ended.then(() => Promise.all([stdout, stderr]));
      const classifier = new PacketClassifier();
      const events: PacketEvent[] = [];
      const unreachables: UnreachableEvent[] = [];
      for (const record of tcpdumpRecords(text)) {
        // An ICMP message quotes a segment: never count the quote as a segment.
        const icmp = parseTcpdumpUnreachable(record);
        if (icmp) {
          // One that quotes a UDP datagram or the like is about no TCP connection.
          if (icmp.quotedProtocol !== undefined && icmp.quotedProtocol !== "TCP") continue;
          unreachables.push({
            at: icmp.wallMs - offsetMs,
            says: icmp.says.replace(/ [0-9a-f.:]*[.:][0-9a-f.:]+/gi, ""),
            ...(icmp.quotedDstPort !== undefined ? { clientPort: icmp.quotedDstPort } : {}),
          });
          continue;
        }
        const packet = parseTcpdumpLine(record);
        if (!packet) continue;
        const fromServer = packet.src.port === options.port &&
          servers.some((s) => sameAddress(s, packet.src.address));
        events.push({
          at: packet.wallMs - offsetMs,
          direction: fromServer ? "server_to_client" : "client_to_server",
          client: fromServer ? packet.dst : packet.src,
          flags: packet.flags,
          seq: packet.seq,
          ack: packet.ack,
          window: packet.window,
          length: packet.length,
          kinds: classifier.classify(packet),
        });
      }
      const dropped = droppedByKernel(said);
      return {
        packets: events,
        unreachables,
        ...(dropped === undefined ? {} : { droppedByKernel: dropped }),
      };
    },
  };
}
