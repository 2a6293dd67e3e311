/**
 * Records what the kernel does with a connection whose client goes down, against the odd test
 * server (lib/runner/testdata/odd_server.ts) with exact socket options: the socket watch's
 * events, the packets at the router, the options and sysctls read, the fault moment and the
 * release. The recordings (release/<case>.json) are the event sequences predict_release's
 * tests replay; `--table` prints expected (kernel model) vs measured vs predicted.
 *
 * ```sh
 * deno run --allow-all lib/evaluate/testdata/record_release.ts [case...]   # as root
 * deno run --allow-all lib/evaluate/testdata/record_release.ts --table
 * ```
 *
 * @module
 */

import { CLIENT, SERVER } from "../../lab/address_plan.ts";
import { createLab, type Lab, tearDownAll } from "../../lab/lab.ts";
import { ClientAgent } from "../../client/client_agent.ts";
import { monotonicMs } from "../../libc/libc.ts";
import { spawn } from "../../process/spawn.ts";
import { run } from "../../process/spawn.ts";
import { type PacketEvent, startCapture } from "../../observe/capture.ts";
import { readSocketOptions, readTcpSysctls } from "../../observe/socket_options.ts";
import { readKernelHz } from "../../observe/kernel_hz.ts";
import { type SocketEvent, watchSocket } from "../../observe/socket_watch.ts";
import { connectionRelease } from "../../observe/connection_release.ts";
import { readSocketTable, socketFds } from "../../observe/proc_net_tcp.ts";
import { vanish } from "../../faults/vanish.ts";
import { reboot } from "../../faults/reboot.ts";
import { expireNatNow, installNat } from "../../faults/nat.ts";
import { slowLink } from "../../faults/slow_link.ts";
import { icmpUnreachable } from "../../faults/icmp_unreachable.ts";
import { FaultUnsupported } from "../../faults/unsupported.ts";
import { type OddBehaviour, oddServerFlags } from "../../runner/testdata/odd_target.ts";
import type { PeerBehaviour } from "../../observe/observations.ts";
import {
  predictFromObservations,
  type PredictionOutcome,
  predictRelease,
  type Situation,
} from "../predict_release.ts";
import type { SocketOptions, TcpSysctls } from "../../results/schema.ts";

const PORT = 7070;
const ODD = decodeURIComponent(
  new URL("../../runner/testdata/odd_server.ts", import.meta.url).pathname,
);
const OUT = new URL("./release/", import.meta.url);

/** One measured case. */
export interface ReleaseCase {
  /** The recording's file name (without `.json`). */
  name: string;
  /** What happens, in words. */
  title: string;
  /** The odd server's options and behaviour. */
  behaviour: OddBehaviour;
  /**
   * Before the fault: a PING exchange (idle); a large response the client keeps reading
   * (reading: data in flight at the fault); one it read 2 MiB of, then stopped (stopped-reading:
   * its window closes); one it never reads (zero-window).
   */
  phase: "idle" | "reading" | "stopped-reading" | "zero-window";
  /** The short deadline of the acceptance table, ms after the fault (default: half the outcome). */
  shortCutMs?: number;
  /** How the client goes down. */
  fault: "vanish" | "freeze" | "reboot" | "nat-rst" | "icmp" | "none";
  /** What the fault makes the peer do, as the fault registry would say. */
  peer: PeerBehaviour;
  /** How long to watch for the release at most. */
  maxWaitMs: number;
  /** The server namespace's tcp_retries2, when not the default. */
  retries2?: number;
}

/** A recording. */
export interface ReleaseRecording extends ReleaseCase {
  /** The server socket's options, read just before the fault. */
  options: SocketOptions;
  /** The server namespace's TCP sysctls. */
  sysctls: TcpSysctls;
  /**
   * CONFIG_HZ of the kernel it was recorded on (the recordings before it was recorded were all
   * made on this project's HZ=250 kernel, and say 250).
   */
  kernelHz?: number;
  /** The fault moment (monotonic ms, as every time here). */
  faultAt: number;
  /** When the last exchange before the fault completed. */
  lastTrafficAt: number;
  /** When the server stopped holding the connection, if it did. */
  releasedAt: number | undefined;
  /** Until when the connection was watched. */
  watchedUntil: number;
  /** The socket watch's events. */
  socket: SocketEvent[];
  /** The connection's packets at the router. */
  packets: PacketEvent[];
  /** The tail of the server's log. */
  serverLog: string;
}

export type {
  OddBehaviour,
  PacketEvent,
  PeerBehaviour,
  PredictionOutcome,
  SocketEvent,
  SocketOptions,
  TcpSysctls,
};

const SHORT = { keepalive: true, keepIdleS: 2, keepIntvlS: 1, keepCnt: 3 } as const;

/** The cases of the acceptance table. */
export const CASES: readonly ReleaseCase[] = [
  {
    name: "keepalive-short-vanish",
    title: "keepalive 2 s + 3 × 1 s, idle, peer vanished",
    behaviour: SHORT,
    phase: "idle",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 15_000,
  },
  {
    name: "keepalive-long-vanish",
    title: "keepalive with OS defaults (7200 s + 9 × 75 s), idle, peer vanished",
    behaviour: { keepalive: true },
    phase: "idle",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 8_000,
  },
  {
    name: "keepalive-user-timeout-vanish",
    title: "keepalive 2 s + 3 × 1 s with TCP_USER_TIMEOUT 4.5 s, idle, peer vanished",
    behaviour: { ...SHORT, userTimeoutMs: 4500 },
    phase: "idle",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 15_000,
  },
  {
    name: "keepalive-user-timeout-long-vanish",
    title: "keepalive 2 s + 3 × 1 s with TCP_USER_TIMEOUT 8 s (past KEEPCNT), idle, vanished",
    behaviour: { ...SHORT, userTimeoutMs: 8000 },
    phase: "idle",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 15_000,
  },
  {
    name: "user-timeout-idle-vanish",
    title: "TCP_USER_TIMEOUT 5 s without keepalive, idle, peer vanished",
    behaviour: { userTimeoutMs: 5000 },
    phase: "idle",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 10_000,
  },
  {
    name: "user-timeout-reading-vanish",
    title: "TCP_USER_TIMEOUT 5 s without keepalive, mid-response (data in flight), peer vanished",
    behaviour: { userTimeoutMs: 5000 },
    phase: "reading",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 15_000,
  },
  {
    name: "user-timeout-stopped-reading-vanish",
    title: "TCP_USER_TIMEOUT 5 s, client stopped reading mid-response (window closing), vanished",
    behaviour: { userTimeoutMs: 5000 },
    phase: "stopped-reading",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 15_000,
  },
  {
    name: "keepalive-freeze",
    title: "keepalive 2 s + 3 × 1 s, idle, client process frozen (its kernel answers)",
    behaviour: SHORT,
    phase: "idle",
    fault: "freeze",
    peer: "answers",
    maxWaitMs: 12_000,
  },
  {
    name: "keepalive-reboot",
    title: "keepalive 2 s + 3 × 1 s, idle, client rebooted (answers with RST)",
    behaviour: SHORT,
    phase: "idle",
    fault: "reboot",
    peer: "resets",
    maxWaitMs: 10_000,
  },
  {
    name: "keepalive-nat-rst",
    title: "keepalive 2 s + 3 × 1 s, idle, NAT mapping expired, router resets strays",
    behaviour: SHORT,
    phase: "idle",
    fault: "nat-rst",
    peer: "resets",
    maxWaitMs: 10_000,
  },
  {
    name: "late-writer-user-timeout",
    title: "writes 5 s after the last exchange, TCP_USER_TIMEOUT 3 s, peer vanished",
    behaviour: { pushAfterMs: 5000, userTimeoutMs: 3000 },
    phase: "idle",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 15_000,
    shortCutMs: 6500,
  },
  {
    name: "late-writer-retries2-8",
    title: "writes 5 s after the last exchange, tcp_retries2 8 (102.2 s model), peer vanished",
    behaviour: { pushAfterMs: 5000 },
    phase: "idle",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 140_000,
    retries2: 8,
    shortCutMs: 30_000,
  },
  {
    name: "late-writer-retries2-15",
    title: "writes 5 s after the last exchange, tcp_retries2 15 (924.6 s model), peer vanished",
    behaviour: { pushAfterMs: 5000 },
    phase: "idle",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 1_150_000,
    shortCutMs: 60_000,
  },
  {
    name: "zero-window-user-timeout",
    title: "TCP_USER_TIMEOUT 5 s, client stops reading a large response (zero window)",
    behaviour: { userTimeoutMs: 5000 },
    phase: "zero-window",
    fault: "none",
    peer: "answers",
    maxWaitMs: 30_000,
  },
  {
    name: "zero-window-no-user-timeout",
    title: "no TCP_USER_TIMEOUT, client stops reading a large response (zero window)",
    behaviour: {},
    phase: "zero-window",
    fault: "none",
    peer: "answers",
    maxWaitMs: 20_000,
  },
  {
    name: "retries2-reading-vanish",
    title: "no TCP_USER_TIMEOUT, mid-response (data in flight), peer vanished (924.6 s model)",
    behaviour: {},
    phase: "reading",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 1_200_000,
  },
  {
    name: "retries2-8-reading-vanish",
    title: "tcp_retries2 8 (102.2 s model), mid-response (data in flight), peer vanished",
    behaviour: {},
    phase: "reading",
    fault: "vanish",
    peer: "silent",
    // The RTO of a slow link (about 380 ms) doubled 8 times passes the 102.2 s model: the
    // abort waits for the 9th retransmission timer, near 195 s.
    maxWaitMs: 300_000,
    retries2: 8,
  },
  {
    name: "icmp-retries2-8-reading",
    title:
      "tcp_retries2 8, mid-response (data in flight), router answers with ICMP host unreachable",
    behaviour: {},
    phase: "reading",
    fault: "icmp",
    peer: "silent",
    maxWaitMs: 300_000,
    retries2: 8,
  },
  {
    name: "icmp-user-timeout-reading",
    title:
      "TCP_USER_TIMEOUT 5 s, mid-response (data in flight), router answers with ICMP host unreachable",
    behaviour: { userTimeoutMs: 5000 },
    phase: "reading",
    fault: "icmp",
    peer: "silent",
    maxWaitMs: 15_000,
  },
  {
    name: "retries2-stopped-reading-vanish",
    title: "no TCP_USER_TIMEOUT, client stopped reading mid-response, then vanished",
    behaviour: {},
    phase: "stopped-reading",
    fault: "vanish",
    peer: "silent",
    maxWaitMs: 1_200_000,
  },
];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function untilListening(pid: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const fds = socketFds(pid);
    if (readSocketTable(pid).some((s) => s.state === "LISTEN" && fds.has(s.inode))) return;
    await sleep(10);
  }
  throw new Error("The odd server did not listen within 10 s");
}

/** Runs one case in a lab of its own and returns its recording. */
export async function recordCase(c: ReleaseCase): Promise<ReleaseRecording> {
  const lab = await createLab();
  try {
    return await recordIn(lab, c);
  } finally {
    await lab.teardown();
  }
}

async function recordIn(lab: Lab, c: ReleaseCase): Promise<ReleaseRecording> {
  if (c.retries2 !== undefined) {
    await run(["sh", "-c", `echo ${c.retries2} > /proc/sys/net/ipv4/tcp_retries2`], {
      netns: lab.hosts.server,
    });
  }
  const server = spawn([
    Deno.execPath(),
    "run",
    "--allow-all",
    ODD,
    "--address",
    SERVER.v4,
    "--port",
    String(PORT),
    ...oddServerFlags(c.behaviour),
  ], { netns: lab.hosts.server, stderr: "piped", stdout: "null" });
  const log = new Response(server.process.stderr).text();
  const agent = await ClientAgent.start(lab, { holder: true });
  try {
    await untilListening(server.pid);
    const nat = c.fault === "nat-rst"
      ? await installNat(lab, { establishedTimeoutS: 3600, strays: "rst" })
      : undefined;
    if (nat instanceof FaultUnsupported) throw nat;
    const capture = await startCapture(lab, { iface: "r1", port: PORT });
    if (!capture.available) throw new Error(capture.reason);
    const connected = await agent.connect({
      address: SERVER.v4,
      port: PORT,
      timeoutMs: 5000,
      ...(c.phase === "zero-window" ? { rcvBuf: 4096 } : {}),
    });
    if (!connected.ok) throw new Error(`Connect failed: ${connected.message}`);
    const conn = connected.conn;
    const peer = { address: nat ? "203.0.113.1" : CLIENT.v4, port: connected.local.port };
    const watch = watchSocket(server.pid, peer, { localPort: PORT, intervalMs: 15 });
    let lastTrafficAt: number;
    if (c.phase === "idle") {
      await agent.send(conn, "PING\n");
      const read = await agent.read(conn, { until: "PONG\n" });
      if (!read.ok || !read.found) throw new Error("No PONG");
      lastTrafficAt = read.t;
    } else if (c.phase === "stopped-reading") {
      await agent.send(conn, `BIG ${64 * 1024 * 1024}\n`);
      const read = await agent.read(conn, { bytes: 2 * 1024 * 1024, timeoutMs: 10_000 });
      if (!read.ok) throw new Error("No response");
      lastTrafficAt = read.t;
    } else if (c.phase === "reading") {
      // A slow client link (as the runner's keepReading): the server is still sending, with
      // data in flight, when the client goes.
      const slow = await slowLink(lab, { rateKbit: 2000 });
      if (slow instanceof FaultUnsupported) throw slow;
      await agent.send(conn, `BIG ${64 * 1024 * 1024}\n`);
      // Reads on past the fault: data is in flight when the client goes.
      agent.read(conn, { bytes: 64 * 1024 * 1024, timeoutMs: c.maxWaitMs }).catch(() => {});
      await sleep(300);
      lastTrafficAt = monotonicMs();
    } else {
      await agent.send(conn, `BIG ${64 * 1024 * 1024}\n`);
      lastTrafficAt = monotonicMs();
    }
    // The server's options as the runner reads them, just before the fault.
    const found = await watch.waitFor((e) => e.fd !== undefined, 5000);
    if (found?.fd === undefined) throw new Error("Server socket not found");
    const options = readSocketOptions(server.pid, found.fd);
    const sysctls = readTcpSysctls(lab.hosts.server);
    const kernelHz = await readKernelHz();
    let faultAt: number;
    switch (c.fault) {
      case "vanish": {
        faultAt = monotonicMs();
        const gone = await vanish(lab);
        if (gone instanceof FaultUnsupported) throw gone;
        break;
      }
      case "freeze":
        faultAt = await agent.freeze();
        break;
      case "reboot": {
        faultAt = monotonicMs();
        const done = await reboot(lab, { serverPort: PORT });
        if (done instanceof FaultUnsupported) throw done;
        break;
      }
      case "nat-rst": {
        faultAt = monotonicMs();
        const expired = await expireNatNow(lab, {
          clientPort: connected.local.port,
          serverPort: PORT,
        });
        if (expired instanceof FaultUnsupported) throw expired;
        break;
      }
      case "icmp": {
        faultAt = monotonicMs();
        const icmp = await icmpUnreachable(lab, { kind: "host-unreachable" });
        if (icmp instanceof FaultUnsupported) throw icmp;
        break;
      }
      case "none":
        faultAt = monotonicMs();
        break;
    }
    const released = await watch.waitFor(
      (e) => e.holding === "orphaned" || e.holding === "freed",
      c.maxWaitMs,
    );
    const watchedUntil = released?.at ?? monotonicMs();
    // A little more of the aftermath: the RST, the socket freed.
    await sleep(300);
    watch.stop();
    const packets = (await capture.stop()).packets.filter((p) => p.client.port === peer.port);
    if (c.fault === "freeze") await agent.thaw();
    if (nat) await nat.undo();
    server.signal("SIGKILL");
    await server.status;
    const serverLog = (await log.catch(() => "")).slice(-4000);
    return {
      ...c,
      options,
      sysctls,
      ...(kernelHz === undefined ? {} : { kernelHz }),
      faultAt,
      lastTrafficAt,
      releasedAt: connectionRelease(watch.events).releasedAt,
      watchedUntil,
      socket: [...watch.events],
      packets,
      serverLog,
    };
  } finally {
    await agent.stop().catch(() => {});
    try {
      server.signal("SIGKILL");
    } catch {
      // already ended
    }
    await server.status;
  }
}

/** The recordings on disk, by case name. */
export async function readRecordings(): Promise<ReleaseRecording[]> {
  const out: ReleaseRecording[] = [];
  for (const c of CASES) {
    try {
      out.push(JSON.parse(await Deno.readTextFile(new URL(`${c.name}.json`, OUT))));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return out;
}

if (import.meta.main && !Deno.args.includes("--table")) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      await tearDownAll();
      Deno.exit(130);
    });
  }
  const names = Deno.args.filter((a) => !a.startsWith("--"));
  const chosen = CASES.filter((c) => names.length === 0 || names.includes(c.name));
  await Deno.mkdir(OUT, { recursive: true });
  for (const c of chosen) {
    const started = monotonicMs();
    const recording = await recordCase(c);
    await Deno.writeTextFile(
      new URL(`${c.name}.json`, OUT),
      JSON.stringify(recording, null, 1) + "\n",
    );
    const released = recording.releasedAt === undefined
      ? "not released"
      : `released ${Math.round(recording.releasedAt - recording.faultAt)} ms after the fault`;
    console.log(`${c.name}: ${released} (${Math.round(monotonicMs() - started)} ms)`);
  }
}

/** One row of the acceptance table. */
export interface TableRow {
  /** The case. */
  name: string;
  /** The kernel model's nominal figure, ms after its reference moment, or "never". */
  model: string;
  /** Measured release, ms after the fault (what a deadline longer than the outcome judges). */
  measured: string;
  /** The prediction with a deadline shorter than the outcome, ms after the fault. */
  short: string;
  /** Whether the measurement falls in its tolerance (undefined: no prediction). */
  shortAgrees: boolean | undefined;
  /** The prediction from everything seen while the server still held the connection. */
  last: string;
  /** Whether the measurement falls in its tolerance. */
  lastAgrees: boolean | undefined;
}

/**
 * The prediction at `cutMs` after the fault, from a recording (without its capture: `captured`
 * false), on the kernel's recorded HZ, or on `kernelHz` when given (null: as if not known).
 */
export function predictAt(
  r: ReleaseRecording,
  cutMs: number,
  captured = true,
  kernelHz?: number | null,
): PredictionOutcome {
  const watchedUntil = r.faultAt + cutMs;
  return predictFromObservations({
    options: r.options,
    sysctls: r.sysctls,
    kernelHz: kernelHz === null ? undefined : kernelHz ?? r.kernelHz,
    socket: r.socket.filter((e) => e.at <= watchedUntil),
    packets: captured ? r.packets.filter((p) => p.at <= watchedUntil) : undefined,
    faultAt: r.faultAt,
    lastTrafficAt: r.lastTrafficAt,
    watchedUntil,
    peerExpected: r.peer,
  });
}

/** Whether a measured release agrees with a prediction (undefined: no prediction). */
export function agrees(r: ReleaseRecording, p: PredictionOutcome): boolean | undefined {
  if (p.kind === "unknown") return undefined;
  if (p.kind === "never") return r.releasedAt === undefined;
  if (r.releasedAt === undefined) return r.watchedUntil < p.at + p.toleranceMs.late;
  return r.releasedAt >= p.at - p.toleranceMs.early && r.releasedAt <= p.at + p.toleranceMs.late;
}

/** The last moment, ms after the fault, the server was seen holding the connection. */
export function lastHeldMs(r: ReleaseRecording): number {
  const held = r.socket.filter((e) => e.holding === "held").at(-1);
  const end = r.releasedAt ?? r.watchedUntil;
  return Math.max(0, (held && r.releasedAt !== undefined ? held.at : end) - r.faultAt);
}

function describe(r: ReleaseRecording, p: PredictionOutcome): string {
  if (p.kind === "unknown") return `none: ${p.reason}`;
  if (p.kind === "never") return `never (${p.situation})`;
  return `${Math.round(p.at - r.faultAt)} ms −${p.toleranceMs.early}/+${p.toleranceMs.late} ` +
    `(${p.how}; ${p.from} at ${Math.round(p.fromAt - r.faultAt)} ms)`;
}

/** The acceptance table row of a recording. */
export function tableRow(r: ReleaseRecording): TableRow {
  const model = predictRelease(r.options, r.sysctls, situationOf(r));
  const from = { idle: "last traffic", "unacked-data": "first retransmission" }[
    model.situation as string
  ] ?? "first window probe";
  const outcomeMs = (r.releasedAt ?? r.watchedUntil) - r.faultAt;
  const shortMs = r.shortCutMs ?? Math.max(1000, Math.round(outcomeMs * 0.5));
  const short = predictAt(r, shortMs);
  const last = predictAt(r, lastHeldMs(r));
  return {
    name: r.name,
    model: model.afterMs === "never"
      ? `never (${model.reason})`
      : `${model.afterMs} ms after the ${from} (${model.mechanism})`,
    measured: r.releasedAt === undefined
      ? `not released in ${Math.round(outcomeMs)} ms`
      : `${Math.round(outcomeMs)} ms (${Math.round(r.releasedAt - r.lastTrafficAt)} ms after ` +
        "the last traffic)",
    short: `at ${shortMs} ms: ${describe(r, short)}`,
    shortAgrees: agrees(r, short),
    last: `at ${Math.round(lastHeldMs(r))} ms: ${describe(r, last)}`,
    lastAgrees: agrees(r, last),
  };
}

function situationOf(r: ReleaseRecording): Situation {
  if (r.phase === "zero-window") return "zero-window";
  if (r.phase === "stopped-reading") return "zero-window";
  if (r.phase === "reading" || r.behaviour.pushAfterMs !== undefined) return "unacked-data";
  return "idle";
}

if (import.meta.main && Deno.args.includes("--table")) {
  const yes = (a: boolean | undefined) => a === undefined ? "no prediction" : a ? "yes" : "NO";
  console.log(
    "| case | kernel model | measured (deadline longer) | predicted, deadline shorter | agrees " +
      "| predicted from all seen held | agrees |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of await readRecordings()) {
    const row = tableRow(r);
    console.log(
      `| ${row.name} | ${row.model} | ${row.measured} | ${row.short} | ${yes(row.shortAgrees)} | ` +
        `${row.last} | ${yes(row.lastAgrees)} |`,
    );
  }
}
