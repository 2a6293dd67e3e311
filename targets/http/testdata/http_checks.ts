/**
 * Checks the HTTP target tests share: each drives the real server in a real lab from the
 * client host, and throws (an AssertionError) when the server does not behave as its target
 * file says.
 *
 * @module
 */

import { ensureInstalled } from "../../../lib/target/ensure_installed.ts";
import assert from "node:assert/strict";
import { ClientAgent } from "../../../lib/client/client_agent.ts";
import { CLIENT, type Family } from "../../../lib/lab/address_plan.ts";
import { createLab, type Lab } from "../../../lib/lab/lab.ts";
import { monotonicMs } from "../../../lib/libc/libc.ts";
import { readSocketTable, type SocketEntry } from "../../../lib/observe/proc_net_tcp.ts";
import { processTree } from "../../../lib/observe/process_tree.ts";
import { readSocketOptions, type SocketOptions } from "../../../lib/observe/socket_options.ts";
import {
  type Endpoint,
  findServerFd,
  isConnectionFrom,
  watchSocket,
} from "../../../lib/observe/socket_watch.ts";
import type { TargetDefinition } from "../../../lib/target/define_target.ts";
import { type RunningTarget, startTarget } from "../../../lib/target/start_target.ts";
import { LARGE_BODY_BYTES } from "../static_site.ts";

/** A target running in a fresh lab, with a client agent in the client host. */
export interface HttpRig {
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

const POLL_MS = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `body` against `target` started in a fresh lab; stops everything afterwards. */
export async function withHttpTarget(
  target: TargetDefinition,
  family: Family,
  body: (rig: HttpRig) => Promise<void>,
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
export async function open(rig: HttpRig): Promise<OpenConnection> {
  const out = await rig.agent.connect({ address: rig.server.address, port: rig.server.port });
  assert.ok(out.ok, `connect: ${out.ok ? "" : out.message}`);
  return { conn: out.conn, peer: { address: CLIENT[rig.family], port: out.local.port } };
}

/** The target's small request gets its whole response, and the connection stays open. */
export async function assertExchange(rig: HttpRig, connection: OpenConnection): Promise<void> {
  const { request } = rig.target.protocol;
  const sent = await rig.agent.send(connection.conn, request.send);
  assert.ok(sent.ok, `send: ${sent.ok ? "" : sent.message}`);
  const read = await rig.agent.read(connection.conn, { until: request.until, timeoutMs: 2000 });
  assert.ok(read.ok && read.found, `response: ${JSON.stringify(read)}`);
  assert.match(read.head, /^HTTP\/1\.1 200 /);
  assert.equal(read.eof, false);
}

/** A partial request gets no answer within 300 ms: the server waits for the rest of it. */
export async function assertPartialWaits(rig: HttpRig, connection: OpenConnection): Promise<void> {
  const sent = await rig.agent.send(connection.conn, rig.target.protocol.partialRequest);
  assert.ok(sent.ok, `send: ${sent.ok ? "" : sent.message}`);
  const read = await rig.agent.read(connection.conn, { bytes: 1, timeoutMs: 300 });
  assert.deepEqual([read.ok, read.ok ? "" : read.error, read.bytes], [false, "ETIMEDOUT", 0]);
}

/**
 * The large request is answered with a 64 MiB body the client does not read: the response
 * headers announce it, and the server's send queue fills far beyond what a small response
 * needs. Resolves with the send queue seen (bytes).
 */
export async function assertLargeResponse(
  rig: HttpRig,
  connection: OpenConnection,
): Promise<number> {
  const large = rig.target.protocol.largeRequest;
  assert.ok(large, "The target has no large request");
  const sent = await rig.agent.send(connection.conn, large.send);
  assert.ok(sent.ok, `send: ${sent.ok ? "" : sent.message}`);
  // The header block and the first body bytes; the rest stays unread.
  const read = await rig.agent.read(connection.conn, { bytes: 400, timeoutMs: 2000 });
  assert.ok(read.ok, `response: ${JSON.stringify(read)}`);
  assert.match(read.head, /^HTTP\/1\.1 200 /);
  assert.match(read.head, new RegExp(`\r\ncontent-length: ${LARGE_BODY_BYTES}\r\n`, "i"));
  // With default buffers the send queue grows to hundreds of KiB once the client's window
  // closes (620 KiB seen with nginx); 256 KiB is far more than a small response would leave.
  const entry = await poll("a large send queue", 3000, () => {
    const row = serverRow(rig, connection.peer);
    return row && row.txQueue >= 256 * 1024 ? row : undefined;
  });
  return entry.txQueue;
}

/** The server's socket options on the connection (read from whichever process holds it). */
export async function serverSocketOptions(
  rig: HttpRig,
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

/** The kernel's keepalive defaults in a fresh namespace: tcp(7), Documentation/networking. */
export const OS_KEEPALIVE = { keepIdleS: 7200, keepIntvlS: 75, keepCnt: 9 };

/** When the server ended a connection, in milliseconds since a given moment. */
export interface ServerClose {
  /** When it shut its side (FIN queued, or the socket reset or freed); undefined if not yet. */
  shutMs: number | undefined;
  /** When it closed its fd: it no longer holds the connection; undefined if not yet. */
  releasedMs: number | undefined;
}

/**
 * Watches the server side of the connection for up to `timeoutMs`, until the server has
 * closed its fd, and says when it shut its side and when it let go (ms since `since`).
 */
export async function serverClose(
  rig: HttpRig,
  connection: OpenConnection,
  since: number,
  timeoutMs: number,
): Promise<ServerClose> {
  const watch = watchSocket(rig.server.pid, connection.peer, {
    localPort: rig.server.port,
    intervalMs: 15,
    holders: processTree(rig.server.pid),
  });
  try {
    const held = await watch.waitFor((event) => event.holding === "held", 2000);
    assert.ok(held, "The server never held the connection");
    const released = await watch.waitFor(
      (event) => event.at > held.at && event.holding !== "held" && event.holding !== "pending",
      timeoutMs,
    );
    const shut = watch.events.find((event) =>
      event.at > held.at && (event.holding !== "held" || SHUT_STATES.has(event.state))
    );
    return { shutMs: shut && shut.at - since, releasedMs: released && released.at - since };
  } finally {
    watch.stop();
  }
}

/** The states of a socket whose owner has shut its side. */
const SHUT_STATES: ReadonlySet<string> = new Set([
  "FIN_WAIT1",
  "FIN_WAIT2",
  "CLOSING",
  "TIME_WAIT",
  "LAST_ACK",
  "CLOSE",
  "GONE",
]);

/**
 * Milliseconds from `since` until the server closes the connection (the client reads EOF),
 * or undefined when it is still open after `timeoutMs`.
 */
export async function closedAfter(
  rig: HttpRig,
  connection: OpenConnection,
  since: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const read = await rig.agent.read(connection.conn, { timeoutMs });
  if (read.ok && read.eof) return read.t - since;
  assert.ok(!read.ok && read.error === "ETIMEDOUT", `read: ${JSON.stringify(read)}`);
  return undefined;
}

/** The server side of the connection in the server host's socket table. */
function serverRow(rig: HttpRig, peer: Endpoint): SocketEntry | undefined {
  return readSocketTable(rig.server.pid).find((entry) =>
    isConnectionFrom(entry, peer, rig.server.port)
  );
}

/** Polls `probe` every 10 ms until it returns a value, for at most `timeoutMs`. */
async function poll<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = monotonicMs() + timeoutMs;
  for (let round = 0; round <= timeoutMs / POLL_MS; round++) {
    const value = probe();
    if (value !== undefined) return value;
    if (monotonicMs() >= deadline) break;
    await sleep(POLL_MS);
  }
  throw new Error(`Timed out after "${timeoutMs}" ms waiting for ${what}`);
}
