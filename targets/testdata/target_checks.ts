/**
 * Checks the real-server target tests share, whatever the protocol: each drives the server in
 * a real lab from the client host through the target's own exchanges, and throws (an
 * AssertionError) when the server does not behave as its target file says.
 *
 * @module
 */

import { ensureInstalled } from "../../lib/target/ensure_installed.ts";
import assert from "node:assert/strict";
import { ClientAgent } from "../../lib/client/client_agent.ts";
import { CLIENT, type Family } from "../../lib/lab/address_plan.ts";
import { createLab, type Lab } from "../../lib/lab/lab.ts";
import { monotonicMs } from "../../lib/libc/libc.ts";
import { run } from "../../lib/process/spawn.ts";
import { readSocketTable, type SocketEntry } from "../../lib/observe/proc_net_tcp.ts";
import { processTree } from "../../lib/process/process_tree.ts";
import { readSocketOptions, type SocketOptions } from "../../lib/observe/socket_options.ts";
import { type Endpoint, isConnectionFrom } from "../../lib/observe/socket_watch.ts";
import { findServerFd } from "../../lib/observe/testdata/server_fd.ts";
import type { TargetDefinition } from "../../lib/target/define_target.ts";
import { type RunningTarget, startTarget } from "../../lib/target/start_target.ts";

/** A target running in a fresh lab, with a client agent in the client host. */
export interface TargetRig {
  lab: Lab;
  server: RunningTarget;
  agent: ClientAgent;
  target: TargetDefinition;
  family: Family;
}

/** A connection the agent opened: its id and how the server sees it. */
export interface OpenConnection {
  conn: number;
  peer: Endpoint;
}

/** The kernel's keepalive defaults in a fresh namespace: tcp(7), Documentation/networking. */
export const OS_KEEPALIVE = { keepIdleS: 7200, keepIntvlS: 75, keepCnt: 9 };

const POLL_MS = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `body` against `target` started in a fresh lab; stops everything afterwards. */
export async function withTarget(
  target: TargetDefinition,
  family: Family,
  body: (rig: TargetRig) => Promise<void>,
): Promise<void> {
  // A fresh machine has no server yet: installed on first use, as certify does.
  await ensureInstalled(target, (line) => console.error(line));
  const lab = await createLab();
  try {
    const [server, agent] = await Promise.allSettled([
      startTarget(target, lab, family),
      ClientAgent.start(lab),
    ]);
    try {
      if (server.status === "rejected") throw server.reason;
      if (agent.status === "rejected") throw agent.reason;
      await body({ lab, server: server.value, agent: agent.value, target, family });
    } finally {
      if (agent.status === "fulfilled") await agent.value.stop();
      if (server.status === "fulfilled") await server.value.stop();
    }
  } finally {
    await lab.teardown();
  }
}

/** Opens a connection to the server, with the kernel's default buffers. */
export async function open(rig: TargetRig): Promise<OpenConnection> {
  const out = await rig.agent.connect({ address: rig.server.address, port: rig.server.port });
  assert.ok(out.ok, `connect: ${out.ok ? "" : out.message}`);
  return { conn: out.conn, peer: { address: CLIENT[rig.family], port: out.local.port } };
}

/**
 * The target's small request gets its whole response (its first bytes matching `head`: a
 * pattern, or a string they start with), and the connection stays open.
 */
export async function assertExchange(
  rig: TargetRig,
  connection: OpenConnection,
  head: RegExp | string,
): Promise<void> {
  const { request } = rig.target.protocol;
  const sent = await rig.agent.send(connection.conn, request.send);
  assert.ok(sent.ok, `send: ${sent.ok ? "" : sent.message}`);
  const read = await rig.agent.read(connection.conn, { until: request.until, timeoutMs: 2000 });
  assert.ok(read.ok && read.found, `response: ${JSON.stringify(read)}`);
  assertHead(read.head, head);
  assert.equal(read.eof, false);
}

/** A partial request gets no answer within 300 ms: the server waits for the rest of it. */
export async function assertPartialWaits(
  rig: TargetRig,
  connection: OpenConnection,
): Promise<void> {
  const sent = await rig.agent.send(connection.conn, rig.target.protocol.partialRequest);
  assert.ok(sent.ok, `send: ${sent.ok ? "" : sent.message}`);
  const read = await rig.agent.read(connection.conn, { bytes: 1, timeoutMs: 300 });
  assert.deepEqual([read.ok, read.ok ? "" : read.error, read.bytes], [false, "ETIMEDOUT", 0]);
}

/**
 * The large request is answered (its first bytes matching `head`, as for assertExchange) while the client reads no
 * further: the server's send queue fills far beyond what a small response needs. Resolves
 * with the send queue seen (bytes).
 */
export async function assertLargeResponse(
  rig: TargetRig,
  connection: OpenConnection,
  head: RegExp | string,
): Promise<number> {
  const large = rig.target.protocol.largeRequest;
  assert.ok(large, "The target has no large request");
  assert.ok(large.responseBytes >= 64 * 1024 * 1024, "The large response is under 64 MiB");
  const sent = await rig.agent.send(connection.conn, large.send);
  assert.ok(sent.ok, `send: ${sent.ok ? "" : sent.message}`);
  const read = await rig.agent.read(connection.conn, { bytes: 512, timeoutMs: 5000 });
  assert.ok(read.ok, `response: ${JSON.stringify(read)}`);
  assertHead(read.head, head);
  // With default buffers the send queue grows to hundreds of KiB once the client's window
  // closes; 256 KiB is far more than a small response would leave.
  const entry = await poll("a large send queue", 5000, () => {
    const row = serverRow(rig, connection.peer);
    return row && row.txQueue >= 256 * 1024 ? row : undefined;
  });
  return entry.txQueue;
}

/**
 * The large request's whole response arrives when the client reads it: `responseBytes` bytes,
 * and then nothing more within 300 ms. Resolves with how long reading took (ms).
 */
export async function assertLargeResponseSize(
  rig: TargetRig,
  connection: OpenConnection,
): Promise<number> {
  const large = rig.target.protocol.largeRequest;
  assert.ok(large, "The target has no large request");
  const sent = await rig.agent.send(connection.conn, large.send);
  assert.ok(sent.ok, `send: ${sent.ok ? "" : sent.message}`);
  const read = await rig.agent.read(connection.conn, {
    bytes: large.responseBytes,
    timeoutMs: 10_000,
  });
  assert.ok(read.ok, `response: ${JSON.stringify({ ...read, head: undefined })}`);
  assert.equal(read.bytes, large.responseBytes);
  const more = await rig.agent.read(connection.conn, { bytes: 1, timeoutMs: 300 });
  assert.deepEqual([more.ok, more.bytes], [false, 0], "Bytes past responseBytes");
  return read.t - sent.t;
}

/** The server's socket options on the connection (read from whichever process holds it). */
export async function serverSocketOptions(
  rig: TargetRig,
  connection: OpenConnection,
): Promise<SocketOptions> {
  return await poll("the server to hold the connection", 2000, () => {
    for (const pid of processTree(rig.server.pid)) {
      const found = findServerFd(pid, connection.peer, rig.server.port);
      if (found) return readSocketOptions(pid, found.fd);
    }
    return undefined;
  });
}

/** `/proc/<pid>/status` of each process of the tree of `root`, by pid. */
export function processStatuses(root: number): Map<number, string> {
  const statuses = new Map<number, string>();
  for (const pid of processTree(root)) {
    try {
      statuses.set(pid, Deno.readTextFileSync(`/proc/${pid}/status`));
    } catch (error) {
      // A child that ended between the listing and the read (a worker a query spawned).
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return statuses;
}

/**
 * Every process of the server runs as `user` (it dropped root, or never had it). A server may
 * listen before it drops root: its processes are given 5 s to get there.
 */
export async function assertRunsAs(rig: TargetRig, user: string): Promise<void> {
  const uid = Number((await run(["id", "-u", user])).stdout.trim());
  const uids = () => {
    const found = new Map<number, number[]>();
    for (const [pid, status] of processStatuses(rig.server.pid)) {
      const real = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
      found.set(pid, [Number(real?.[1]), Number(real?.[2])]);
    }
    return found;
  };
  const dropped = (found: Map<number, number[]>) =>
    found.size > 0 &&
    [...found.values()].every(([real, effective]) => real === uid && effective === uid);
  let found = uids();
  for (let i = 0; i < 5000 / POLL_MS && !dropped(found); i++) {
    await sleep(POLL_MS);
    found = uids();
  }
  assert.ok(found.size > 0, `No process of the server left to check as ${user}`);
  for (const [pid, ids] of found) assert.deepEqual(ids, [uid, uid], `pid ${pid} as ${user}`);
}

function assertHead(actual: string, expected: RegExp | string): void {
  if (typeof expected === "string") {
    assert.ok(actual.startsWith(expected), `Response starts ${JSON.stringify(actual)}`);
  } else {
    assert.match(actual, expected);
  }
}

/** The server side of the connection in the server host's socket table. */
export function serverRow(rig: TargetRig, peer: Endpoint): SocketEntry | undefined {
  return readSocketTable(rig.server.pid).find((entry) =>
    isConnectionFrom(entry, peer, rig.server.port)
  );
}

/**
 * Two moments around the start of a server's clock, on the monotonic clock every process
 * shares: `from`, taken before the client did what starts it (no later than the server's
 * start), and `to`, taken once the client saw it done (no earlier, up to the server's own
 * delay in acting on it).
 */
export interface Span {
  from: number;
  to: number;
}

/** Runs `act` and returns the moments just before it and just after it. */
export async function spanOf(act: () => Promise<unknown>): Promise<Span> {
  const from = monotonicMs();
  await act();
  return { from, to: monotonicMs() };
}

/**
 * Asserts that a server acted `minMs` to `maxMs` after its clock started somewhere in `span`;
 * `msFromStart` is measured from `span.from`. The lower bound counts from `span.from`, so no
 * lateness of the test, the agent or the host can break it; the upper bound counts from
 * `span.to`, and its slack above the server's own must cover the client's lateness in
 * seeing the act (until the agent stamps reads with the kernel's receive time).
 */
export function assertElapsed(
  what: string,
  msFromStart: number | undefined,
  span: Span,
  minMs: number,
  maxMs: number,
): void {
  assert.ok(msFromStart !== undefined, `${what}: never happened`);
  const latest = msFromStart - (span.to - span.from);
  assert.ok(
    msFromStart >= minMs && latest <= maxMs,
    `${what}: ${latest.toFixed(0)} to ${msFromStart.toFixed(0)} ms, expected ${minMs} to ${maxMs}`,
  );
}

/** Polls `probe` every 10 ms until it returns a value, for at most `timeoutMs`. */
export async function poll<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined,
): Promise<T> {
  const deadline = monotonicMs() + timeoutMs;
  for (let round = 0; round <= timeoutMs / POLL_MS; round++) {
    const value = probe();
    if (value !== undefined) return value;
    if (monotonicMs() >= deadline) break;
    await sleep(POLL_MS);
  }
  throw new Error(`Timed out after "${timeoutMs}" ms waiting for ${what}`);
}
