/**
 * Checks the HTTP target tests share, on top of the generic target checks: each drives the
 * real server in a real lab from the client host, and throws (an AssertionError) when the
 * server does not behave as its target file says.
 *
 * @module
 */

import assert from "node:assert/strict";
import { processTree } from "../../../lib/process/process_tree.ts";
import { watchSocket } from "../../../lib/observe/socket_watch.ts";
import * as checks from "../../testdata/target_checks.ts";
import type { OpenConnection, TargetRig } from "../../testdata/target_checks.ts";
import { LARGE_BODY_BYTES } from "../static_site.ts";

export {
  assertElapsed,
  assertPartialWaits,
  open,
  type OpenConnection,
  OS_KEEPALIVE,
  serverSocketOptions,
  spanOf,
  type TargetRig as HttpRig,
  withTarget as withHttpTarget,
} from "../../testdata/target_checks.ts";

const OK = /^HTTP\/1\.1 200 /;

/** The small request gets a whole 200 response, and the connection stays open. */
export function assertExchange(rig: TargetRig, connection: OpenConnection): Promise<void> {
  return checks.assertExchange(rig, connection, OK);
}

/**
 * The large request is answered with a 64 MiB body the client does not read: the headers
 * announce it and the server's send queue fills. Resolves with the send queue seen (bytes).
 */
export function assertLargeResponse(rig: TargetRig, connection: OpenConnection): Promise<number> {
  const announced = new RegExp(
    `^HTTP/1\\.1 200 [^]*\r\ncontent-length: ${LARGE_BODY_BYTES}\r\n`,
    "i",
  );
  return checks.assertLargeResponse(rig, connection, announced);
}

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
  rig: TargetRig,
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
  rig: TargetRig,
  connection: OpenConnection,
  since: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const read = await rig.agent.read(connection.conn, { timeoutMs });
  if (read.ok && read.eof) return read.t - since;
  assert.ok(!read.ok && read.error === "ETIMEDOUT", `read: ${JSON.stringify(read)}`);
  return undefined;
}
