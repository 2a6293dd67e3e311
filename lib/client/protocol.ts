/**
 * The wire between the runner and the client agent: one JSON object per line, a command on
 * the agent's stdin, one reply per command on its stdout, matched by `seq`. Replies may come
 * out of order: a read that waits never holds up the commands behind it.
 *
 * Every reply carries `t`, the CLOCK_MONOTONIC milliseconds (`monotonicMs()`) at which the
 * action completed in the agent: the moment it reached the wire.
 *
 * @module
 */

import type { TcpState } from "../observe/proc_net_tcp.ts";

/** An IP address and port. */
export interface Endpoint {
  address: string;
  port: number;
}

/** Asks the agent to answer: the runner's readiness check. */
export interface HelloCommand {
  op: "hello";
}

/** Opens a connection; the buffer sizes are set before connecting so the window scale follows. */
export interface ConnectCommand {
  op: "connect";
  /** The server's address (literal IPv4 or IPv6). */
  address: string;
  port: number;
  /** The local address to connect from, e.g. `192.0.2.3`; the kernel picks the port. */
  bind?: string;
  /** SO_RCVBUF in bytes (the kernel doubles it); small means the window fills soon. */
  rcvBuf?: number;
  /** SO_SNDBUF in bytes (the kernel doubles it). */
  sndBuf?: number;
  timeoutMs: number;
}

/**
 * Bytes on the wire between the runner and the agent: text as itself (sent as UTF-8), any
 * other bytes as hex, so a byte ≥ 0x80 goes out as that one byte.
 */
export type WireBytes = { text: string } | { hex: string };

/** Sends every byte of `data`, waiting for room in the send buffer. */
export interface SendCommand {
  op: "send";
  conn: number;
  data: WireBytes;
  timeoutMs: number;
}

/**
 * Reads until `until` has arrived, `bytes` bytes have, or the server closed (whichever is
 * first; with neither, until the server closes). Bytes past the marker stay in the kernel.
 */
export interface ReadCommand {
  op: "read";
  conn: number;
  until?: WireBytes;
  bytes?: number;
  timeoutMs: number;
}

/** `shutdown(SHUT_WR)`: sends FIN, the connection can still read. */
export interface HalfCloseCommand {
  op: "halfClose";
  conn: number;
}

/**
 * Ends a read under way on the connection without touching the socket: a stuck consumer.
 * Unread data stays in the receive buffer, so the window closes.
 */
export interface StopReadingCommand {
  op: "stopReading";
  conn: number;
}

/** `close()`: FIN, or RST when unread data sits in the receive buffer (the kernel's rule). */
export interface CloseCommand {
  op: "close";
  conn: number;
}

/** `SO_LINGER {1, 0}` then `close()`: RST. */
export interface AbortCommand {
  op: "abort";
  conn: number;
}

/** Reports a connection's endpoints, kernel state and buffer sizes. */
export interface InfoCommand {
  op: "info";
  conn: number;
}

/** Any command. */
export type Command =
  | HelloCommand
  | ConnectCommand
  | SendCommand
  | ReadCommand
  | HalfCloseCommand
  | StopReadingCommand
  | CloseCommand
  | AbortCommand
  | InfoCommand;

/** A command's name. */
export type Op = Command["op"];

/** The command of one name. */
export type CommandOf<O extends Op> = Extract<Command, { op: O }>;

/** What a read got. */
export interface ReadResult {
  /** Bytes consumed from the receive buffer. */
  bytes: number;
  /** Whether the `until` marker arrived. */
  found: boolean;
  /** Whether the server closed its side (recv returned 0). */
  eof: boolean;
  /** The first bytes read (at most 512), decoded as UTF-8, for evidence. */
  head: string;
}

/** A connection as the kernel sees it. */
export interface ConnectionInfo {
  /** False once the agent closed or aborted it. */
  open: boolean;
  local: Endpoint;
  remote: Endpoint;
  /** The kernel's TCP state (`tcpi_state`), while open. */
  state?: TcpState;
  /** The effective SO_RCVBUF (what the kernel granted), while open. */
  rcvBuf?: number;
  /** The effective SO_SNDBUF, while open. */
  sndBuf?: number;
}

/** What each command reports when it succeeds. */
export interface Results {
  hello: { pid: number };
  connect: { conn: number; local: Endpoint };
  send: { bytes: number };
  read: ReadResult;
  halfClose: Record<never, never>;
  stopReading: Record<never, never>;
  close: Record<never, never>;
  abort: Record<never, never>;
  info: ConnectionInfo;
}

/** What each command still reports when it fails: what it got done before. */
export interface FailureDetails {
  hello: Record<never, never>;
  connect: Record<never, never>;
  send: { bytes: number };
  read: ReadResult;
  halfClose: Record<never, never>;
  stopReading: Record<never, never>;
  close: Record<never, never>;
  abort: Record<never, never>;
  info: Record<never, never>;
}

/** A command the socket refused: `error` is the errno name, e.g. `ECONNRESET` or `ETIMEDOUT`. */
export interface Failure {
  ok: false;
  error: string;
  message: string;
}

/** The result of one command, stamped with the moment it completed. */
export type Outcome<O extends Op> =
  & { t: number }
  & (({ ok: true } & Results[O]) | (Failure & FailureDetails[O]));

/** A command on the wire. */
export type Request = Command & { seq: number };

/**
 * A reply on the wire. `usage` marks a command the agent could not carry out at all (unknown
 * connection id, malformed field): a harness bug, not something the server did.
 */
export type Reply = { seq: number; usage?: true } & Outcome<Op>;

const encoder = new TextEncoder();

/** Text or bytes as they travel to the agent. */
export function toWire(payload: string | Uint8Array): WireBytes {
  return typeof payload === "string"
    ? { text: payload }
    : { hex: [...payload].map((b) => b.toString(16).padStart(2, "0")).join("") };
}

/** The bytes a WireBytes stands for. */
export function fromWire(data: WireBytes): Uint8Array {
  if ("text" in data) return encoder.encode(data.text);
  const bytes = new Uint8Array(data.hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(data.hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** One value as a JSON line. */
export function encodeLine(value: Request | Reply): Uint8Array {
  return encoder.encode(JSON.stringify(value) + "\n");
}

/** The lines of a byte stream, without their newline; the last one even when unterminated. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
  if (pending) yield pending;
}
