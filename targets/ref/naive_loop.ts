/**
 * The naive server: the one a dead client hurts most. One thread, a poll() loop for accepts
 * and reads, but every response is written with blocking write() calls right away, so a
 * client that stops reading stalls everyone. No keepalive, no timeouts. SIGPIPE has its
 * default action and write() is used without MSG_NOSIGNAL; write errors are logged and
 * the rest of the response is written anyway, as a careless server does: after a peer's
 * RST the first write fails with ECONNRESET and the next one raises SIGPIPE, which kills
 * the process.
 *
 * @module
 */

import {
  errno,
  errnoName,
  libc,
  pollFds,
  POLLIN,
  revents,
  SIG_DFL,
  SIGPIPE,
} from "../../lib/libc/libc.ts";
import { logEvent } from "./event_log.ts";
import { respond, type ResponsePart, takeLines } from "./line_protocol.ts";
import { acceptClient } from "./listen_socket.ts";
import { Outbox } from "./outbox.ts";

interface Connection {
  peer: string;
  input: Uint8Array;
}

const READ_BYTES = 64 * 1024;

/** Serves the line protocol naively on a blocking listening socket; never returns. */
export function serveNaive(listener: number): never {
  // Deno, like any Rust program, starts with SIGPIPE ignored; a C server would not.
  libc().signal(SIGPIPE, SIG_DFL);
  const connections = new Map<number, Connection>();
  const buffer = new Uint8Array(READ_BYTES);
  for (;;) {
    const fds = [listener, ...connections.keys()];
    const table = pollFds(fds.map((fd) => ({ fd, events: POLLIN })));
    if (libc().poll(table, BigInt(fds.length), -1) < 0) {
      const code = errno();
      if (errnoName(code) === "EINTR") continue;
      throw new Error(`Poll failed: ${errnoName(code)}`);
    }
    fds.forEach((fd, index) => {
      if (revents(table, index) === 0) return;
      if (fd === listener) accept(listener, connections);
      else readFrom(fd, connections, buffer);
    });
  }
}

function accept(listener: number, connections: Map<number, Connection>): void {
  const accepted = acceptClient(listener, false);
  if (typeof accepted === "number") {
    logEvent("error", { op: "accept", errno: errnoName(accepted) });
    return;
  }
  connections.set(accepted.fd, { peer: accepted.peer, input: new Uint8Array() });
  logEvent("accept", { fd: accepted.fd, peer: accepted.peer });
}

function readFrom(fd: number, connections: Map<number, Connection>, buffer: Uint8Array): void {
  const connection = connections.get(fd);
  if (!connection) return;
  const n = Number(libc().recv(fd, buffer, BigInt(buffer.byteLength), 0));
  if (n <= 0) {
    if (n < 0) {
      logEvent("error", { fd, peer: connection.peer, op: "recv", errno: errnoName(errno()) });
    }
    libc().close(fd);
    connections.delete(fd);
    logEvent("close", { fd, peer: connection.peer, reason: n === 0 ? "peer-fin" : "error" });
    return;
  }
  const input = new Uint8Array(connection.input.byteLength + n);
  input.set(connection.input);
  input.set(buffer.subarray(0, n), connection.input.byteLength);
  const { lines, rest } = takeLines(input);
  connection.input = rest;
  for (const line of lines) writeResponse(fd, connection.peer, respond(line));
}

function writeResponse(fd: number, peer: string, parts: readonly ResponsePart[]): void {
  const outbox = new Outbox();
  outbox.push(parts);
  for (let chunk = outbox.next(); chunk; chunk = outbox.next()) {
    const n = Number(libc().write(fd, chunk, BigInt(chunk.byteLength)));
    if (n < 0) logEvent("error", { fd, peer, op: "write", errno: errnoName(errno()) });
    outbox.consume(n < 0 ? chunk.byteLength : n);
  }
}
