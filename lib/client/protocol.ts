/**
 * The commands the client agent (agent.ts) carries out and what each reports.
 *
 * Every outcome carries `t`, the CLOCK_MONOTONIC milliseconds (`monotonicMs()`) at which the
 * action completed: the moment it reached the wire.
 *
 * @module
 */

import type { TcpState } from "../observe/proc_net_tcp.ts";
import type { Payload } from "../target/define_target.ts";

/** An IP address and port. */
export interface Endpoint {
  address: string;
  port: number;
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
  /** Ask the kernel for receive timestamps (SO_TIMESTAMPNS): reads then report `firstByteRealtimeMs`. */
  rxTimestamps?: boolean;
  timeoutMs: number;
}

/** The bytes of a payload: text as UTF-8, bytes as they are. */
export function payloadBytes(payload: Payload): Uint8Array {
  return typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
}

/** Sends every byte of `data`, waiting for room in the send buffer. */
export interface SendCommand {
  op: "send";
  conn: number;
  data: Payload;
  timeoutMs: number;
}

/**
 * Reads until `until` has arrived, `bytes` bytes have, or the server closed (whichever is
 * first; with neither, until the server closes). Bytes past the marker stay in the kernel.
 */
export interface ReadCommand {
  op: "read";
  conn: number;
  until?: Payload;
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
  /**
   * On a connection opened with `rxTimestamps`: the kernel's receive timestamp (CLOCK_REALTIME
   * ms) of the first byte that was not yet waiting when the connection's last send began (the
   * answer's first byte, past a banner). The kernel merges segments that arrive back to back
   * into one buffer and keeps the last one's stamp, so for an answer of several segments it may
   * include their transfer (microseconds on a lab's links).
   */
  firstByteRealtimeMs?: number;
}

/** What a send did, and the moment its first byte was handed to the kernel. */
export interface SendResult {
  /** Bytes the kernel accepted. */
  bytes: number;
  /** CLOCK_MONOTONIC ms taken right before the first send syscall. */
  firstSendAt?: number;
  /** CLOCK_REALTIME ms taken right before the first send syscall (the clock of receive stamps). */
  firstSendRealtimeMs?: number;
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
  /** Bytes the server sent that wait unread in the receive queue, while open. */
  unread?: number;
}

/** What each command reports when it succeeds. */
export interface Results {
  connect: { conn: number; local: Endpoint };
  send: SendResult;
  read: ReadResult;
  halfClose: Record<never, never>;
  stopReading: Record<never, never>;
  close: Record<never, never>;
  abort: Record<never, never>;
  info: ConnectionInfo;
}

/** What each command still reports when it fails: what it got done before. */
export interface FailureDetails {
  connect: Record<never, never>;
  send: SendResult;
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
