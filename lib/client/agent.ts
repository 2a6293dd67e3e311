/**
 * The client agent: drives real sockets in the client host, one command at a time but many
 * at once, from the runner's own event loop. Sockets are made inside the client host's network
 * namespace (netns_socket.ts) and stay there; they are non-blocking and every wait goes through
 * one poll loop (poller.ts), so a read that waits never blocks the next command. Sends always
 * carry MSG_NOSIGNAL: a peer's RST must never kill the runner with SIGPIPE.
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  check,
  errno,
  getIntOption,
  IPPROTO_TCP,
  libc,
  localAddress,
  monotonicMs,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_PEEK,
  POLLIN,
  POLLOUT,
  realtimeMs,
  recvStamped,
  setIntOption,
  setLinger,
  SHUT_WR,
  SO_ERROR,
  SO_RCVBUF,
  SO_SNDBUF,
  SO_TIMESTAMPNS,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  sockaddr,
  SOL_SOCKET,
  SyscallError,
  TCP_INFO,
  unreadBytes,
} from "../libc/libc.ts";
import { TCP_STATES } from "../observe/proc_net_tcp.ts";
import { socketIn } from "./netns_socket.ts";
import type { Poller } from "./poller.ts";
import {
  type AbortCommand,
  type CloseCommand,
  type Command,
  type CommandOf,
  type ConnectCommand,
  type Endpoint,
  type HalfCloseCommand,
  type InfoCommand,
  type Op,
  type Outcome,
  payloadBytes,
  type ReadCommand,
  type ReadResult,
  type SendCommand,
  type SendResult,
  type StopReadingCommand,
} from "./protocol.ts";

const EAGAIN = 11;
const EINPROGRESS = 115;
const READ_CHUNK = 65536;
/**
 * A read that finds data each time never waits, so it yields this often to let other commands
 * in (stopReading, abort, info): on a busy host a server can keep the receive queue full.
 */
const YIELD_EVERY_BYTES = 1024 * 1024;
const HEAD_BYTES = 512;

interface Connection {
  fd: number;
  local: Endpoint;
  remote: Endpoint;
  open: boolean;
  /** The reads or sends under way: one of each at a time, or their bytes would interleave. */
  busy: Set<"read" | "send">;
  /** Set by stopReading: the read under way ends and leaves the rest unread. */
  readStopped?: boolean;
  /** Opened with `rxTimestamps`: reads report the first byte's kernel receive stamp. */
  stamped: boolean;
  /** Bytes that waited unread as the last send began, on a stamped connection. */
  unreadAtSend: number;
}

/** A command that cannot be carried out at all (unknown connection, malformed field): a harness bug. */
export class UsageError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A socket call that failed with an errno, or a wait that ran out. */
class SocketFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "SocketFailure";
    this.code = code;
  }
}

/** The failed outcome of what a socket did; anything else is rethrown (a harness bug). */
function failure<O extends Op>(error: unknown, details: Omit<Outcome<O>, "t" | "ok">): Outcome<O> {
  if (!(error instanceof SocketFailure || error instanceof SyscallError)) throw error;
  const { code, message } = error;
  return { ...details, ok: false, error: code, message, t: monotonicMs() } as Outcome<O>;
}

/** The socket address of a literal IP, or a UsageError naming the field. */
function address(field: string, ip: string, port: number): Uint8Array {
  try {
    return sockaddr(ip, port);
  } catch (error) {
    throw new UsageError(`Invalid "${field}": ${(error as Error).message}`);
  }
}

function success<O extends Op>(result: Omit<Outcome<O>, "t" | "ok">): Outcome<O> {
  return { ...result, ok: true, t: monotonicMs() } as Outcome<O>;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Where an Agent makes its sockets and how it waits on them. */
export interface AgentOptions {
  /** The network namespace (an `ip netns` name) its sockets are made in. */
  netns: string;
  /** The poll loop its waits go through; one can serve many agents. */
  poller: Poller;
  /** Called before a close or abort closes a connection's descriptor (already marked closed). */
  beforeClose?: () => Promise<void>;
}

/** The agent's connections and the commands on them. */
export class Agent {
  readonly #options: AgentOptions;
  readonly #poller: Poller;
  readonly #connections = new Map<number, Connection>();
  #nextId = 1;
  /** Set while frozen: every command and every read or send under way waits for the thaw. */
  #frozen: { thawed: Promise<void>; thaw(): void } | undefined;

  constructor(options: AgentOptions) {
    this.#options = options;
    this.#poller = options.poller;
  }

  /**
   * Carries out one command; never throws for what a socket did, only reports it. Throws
   * UsageError for a command that cannot be carried out at all.
   */
  async run<O extends Op>(command: CommandOf<O>): Promise<Outcome<O>> {
    await this.#awake();
    return await this.#dispatch(command) as Outcome<O>;
  }

  /** The descriptors of the connections still open. */
  descriptors(): number[] {
    return [...this.#connections.values()].filter((c) => c.open).map((c) => c.fd);
  }

  /** From now on nothing is read or sent: commands and the reads under way wait for thaw(). */
  freeze(): void {
    if (this.#frozen) return;
    let thaw = () => {};
    const thawed = new Promise<void>((resolve) => thaw = resolve);
    this.#frozen = { thawed, thaw };
  }

  /** Ends a freeze. */
  thaw(): void {
    this.#frozen?.thaw();
    this.#frozen = undefined;
  }

  /** Whether commands wait for a thaw. */
  get frozen(): boolean {
    return this.#frozen !== undefined;
  }

  /**
   * Closes every descriptor it holds, ending the waits on them first. What goes on the wire is
   * the kernel's rule for close(), or nothing while another process holds the sockets too.
   */
  async closeAll(): Promise<void> {
    this.thaw();
    const open = [...this.#connections.values()].filter((c) => c.open);
    await Promise.all(open.map((c) => this.#release(c)));
  }

  /**
   * Closes every descriptor it holds at once, without waiting: for a client whose sockets
   * another process holds too, so nothing reaches the wire here. A poll in flight on one of
   * them is woken and lets go of it as its syscall returns (see Poller.release).
   */
  dropAll(): void {
    this.thaw();
    for (const connection of this.#connections.values()) {
      if (!connection.open) continue;
      connection.open = false;
      void this.#poller.release(connection.fd);
      libc().close(connection.fd);
    }
  }

  async #awake(): Promise<void> {
    while (this.#frozen) await this.#frozen.thawed;
  }

  #dispatch(command: Command): Promise<Outcome<Op>> | Outcome<Op> {
    switch (command.op) {
      case "connect":
        return this.#connect(command);
      case "send":
        return this.#exclusive(command, () => this.#send(command));
      case "read":
        return this.#exclusive(command, () => this.#read(command));
      case "halfClose":
        return this.#halfClose(command);
      case "stopReading":
        return this.#stopReading(command);
      case "close":
        return this.#close(command);
      case "abort":
        return this.#abort(command);
      case "info":
        return this.#info(command);
      default:
        throw new UsageError(`Unknown command: "${(command as { op: unknown }).op}"`);
    }
  }

  #connection(command: { conn: number; op: string }): Connection {
    const connection = this.#connections.get(command.conn);
    if (!connection) {
      throw new UsageError(`Unknown connection for "${command.op}": "${command.conn}"`);
    }
    return connection;
  }

  /** The connection if still open, else a failure the caller reports as EBADF. */
  #open(command: { conn: number; op: string }): Connection {
    const connection = this.#connection(command);
    if (!connection.open) {
      throw new SocketFailure("EBADF", `Connection "${command.conn}" is already closed`);
    }
    return connection;
  }

  /** Waits until `fd` is ready; throws ETIMEDOUT at the deadline, EBADF when closed meanwhile. */
  async #ready(connection: Connection, events: number, deadline: number, op: Op): Promise<void> {
    const result = await this.#poller.wait(connection.fd, events, deadline);
    if (result === "timeout") throw new SocketFailure("ETIMEDOUT", `"${op}" ran out of time`);
    if (result === "released" && connection.readStopped && op === "read") {
      throw new SocketFailure("ECANCELED", "The read was stopped");
    }
    if (result === "released" || !connection.open) {
      throw new SocketFailure("EBADF", `Connection closed during "${op}"`);
    }
  }

  /** Runs a read or a send, refusing a second one of the same kind on the connection. */
  async #exclusive<T>(
    command: { conn: number; op: "read" | "send" },
    act: () => Promise<T>,
  ): Promise<T> {
    const { busy } = this.#connection(command);
    if (busy.has(command.op)) {
      throw new UsageError(`Connection "${command.conn}" already has a "${command.op}" under way`);
    }
    busy.add(command.op);
    try {
      return await act();
    } finally {
      busy.delete(command.op);
    }
  }

  async #connect(command: ConnectCommand): Promise<Outcome<"connect">> {
    const deadline = monotonicMs() + command.timeoutMs;
    const remote = address("address", command.address, command.port);
    const local = command.bind === undefined ? undefined : address("bind", command.bind, 0);
    const family = command.address.includes(":") ? AF_INET6 : AF_INET;
    let fd: number;
    try {
      fd = socketIn(this.#options.netns, family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
    } catch (error) {
      return failure<"connect">(error, {});
    }
    const connection: Connection = {
      fd,
      local: { address: "", port: 0 },
      remote: { address: command.address, port: command.port },
      open: true,
      busy: new Set(),
      stamped: command.rxTimestamps === true,
      unreadAtSend: 0,
    };
    try {
      if (connection.stamped) setIntOption(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
      if (command.rcvBuf !== undefined) setIntOption(fd, SOL_SOCKET, SO_RCVBUF, command.rcvBuf);
      if (command.sndBuf !== undefined) setIntOption(fd, SOL_SOCKET, SO_SNDBUF, command.sndBuf);
      if (local) check("bind", libc().bind(fd, local, local.length));
      if (libc().connect(fd, remote, remote.length) < 0) {
        const code = errno();
        if (code !== EINPROGRESS) throw new SyscallError("connect", code);
        await this.#ready(connection, POLLOUT, deadline, "connect");
        const result = getIntOption(fd, SOL_SOCKET, SO_ERROR);
        if (result !== 0) throw new SyscallError("connect", result);
      }
      connection.local = localAddress(fd);
    } catch (error) {
      connection.open = false;
      await this.#poller.release(fd);
      libc().close(fd);
      return failure<"connect">(error, {});
    }
    const id = this.#nextId++;
    this.#connections.set(id, connection);
    return success<"connect">({ conn: id, local: connection.local });
  }

  async #send(command: SendCommand): Promise<Outcome<"send">> {
    const deadline = monotonicMs() + command.timeoutMs;
    const data = payloadBytes(command.data);
    const result: SendResult = { bytes: 0 };
    try {
      const connection = this.#open(command);
      while (result.bytes < data.length) {
        if (this.#frozen) await this.#awake();
        const rest = data.subarray(result.bytes);
        if (result.bytes === 0) {
          // What already waits unread (a banner) came before the request: not its answer.
          if (connection.stamped) connection.unreadAtSend = unreadBytes(connection.fd);
          // Both clocks, right before the syscall: the moment the request left, on the clock of
          // the kernel's receive stamps too.
          result.firstSendRealtimeMs = realtimeMs();
          result.firstSendAt = monotonicMs();
        }
        const n = Number(
          libc().send(connection.fd, rest, BigInt(rest.length), MSG_NOSIGNAL | MSG_DONTWAIT),
        );
        if (n >= 0) {
          result.bytes += n;
          continue;
        }
        const code = errno();
        if (code !== EAGAIN) throw new SyscallError("send", code);
        await this.#ready(connection, POLLOUT, deadline, "send");
      }
      return success<"send">(result);
    } catch (error) {
      return failure<"send">(error, result);
    }
  }

  async #read(command: ReadCommand): Promise<Outcome<"read">> {
    const deadline = monotonicMs() + command.timeoutMs;
    const until = command.until === undefined ? undefined : payloadBytes(command.until);
    const marker = until?.length ? until : undefined;
    const result: ReadResult = { bytes: 0, found: false, eof: false, head: "" };
    const head = new Uint8Array(HEAD_BYTES);
    const buf = new Uint8Array(READ_CHUNK);
    // The marker's possible start that arrived at the end of the previous chunk.
    let tail = new Uint8Array(0);
    const keep = (chunk: Uint8Array) => {
      if (result.bytes < HEAD_BYTES) {
        head.set(chunk.subarray(0, HEAD_BYTES - result.bytes), result.bytes);
      }
      result.bytes += chunk.length;
    };
    try {
      const connection = this.#open(command);
      connection.readStopped = false;
      let yieldAt = YIELD_EVERY_BYTES;
      while (command.bytes === undefined || result.bytes < command.bytes) {
        if (this.#frozen) await this.#awake();
        if (result.bytes >= yieldAt) {
          yieldAt += YIELD_EVERY_BYTES;
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        if (connection.readStopped) throw new SocketFailure("ECANCELED", "The read was stopped");
        let want = Math.min(READ_CHUNK, (command.bytes ?? Infinity) - result.bytes);
        const before = Math.max(0, connection.unreadAtSend - result.bytes);
        if (connection.stamped && result.firstByteRealtimeMs === undefined && before < buf.length) {
          // Peeked up to the first byte that came after the last send began: the stamp is that
          // of the buffer the peek ended in, the one holding that byte.
          const first = recvStamped(connection.fd, buf, before + 1, MSG_PEEK | MSG_DONTWAIT);
          if (first.n > before && first.receivedRealtimeMs !== undefined) {
            result.firstByteRealtimeMs = first.receivedRealtimeMs;
          } else if (first.n > 0) {
            // That byte had not come: only what came before it is read now, so that a byte
            // arriving between this peek and the read is stamped by the next peek, not taken
            // unstamped.
            want = Math.min(want, first.n);
          } else if (first.n < 0) {
            const code = errno();
            if (code !== EAGAIN) throw new SyscallError("recv", code);
            await this.#ready(connection, POLLIN, deadline, "read");
            continue;
          }
        }
        // With a marker, peek first and consume only up to its end: what follows stays unread
        // in the kernel, where close() and the window still see it.
        const flags = MSG_DONTWAIT | (marker ? MSG_PEEK : 0);
        const n = Number(libc().recv(connection.fd, buf, BigInt(want), flags));
        if (n < 0) {
          const code = errno();
          if (code !== EAGAIN) throw new SyscallError("recv", code);
          await this.#ready(connection, POLLIN, deadline, "read");
          continue;
        }
        if (n === 0) {
          result.eof = true;
          break;
        }
        if (!marker) {
          keep(buf.subarray(0, n));
          continue;
        }
        const window = concat(tail, buf.subarray(0, n));
        const at = indexOf(window, marker);
        const take = at >= 0 ? at + marker.length - tail.length : n;
        check("recv", libc().recv(connection.fd, buf, BigInt(take), MSG_DONTWAIT));
        keep(buf.subarray(0, take));
        if (at >= 0) {
          result.found = true;
          break;
        }
        tail = window.slice(Math.max(0, window.length - (marker.length - 1)));
      }
      result.head = new TextDecoder().decode(head.subarray(0, Math.min(result.bytes, HEAD_BYTES)));
      return success<"read">(result);
    } catch (error) {
      result.head = new TextDecoder().decode(head.subarray(0, Math.min(result.bytes, HEAD_BYTES)));
      return failure<"read">(error, result);
    }
  }

  async #stopReading(command: StopReadingCommand): Promise<Outcome<"stopReading">> {
    try {
      const connection = this.#open(command);
      connection.readStopped = true;
      if (connection.busy.has("read")) await this.#poller.release(connection.fd);
      return success<"stopReading">({});
    } catch (error) {
      return failure<"stopReading">(error, {});
    }
  }

  #halfClose(command: HalfCloseCommand): Outcome<"halfClose"> {
    try {
      check("shutdown", libc().shutdown(this.#open(command).fd, SHUT_WR));
      return success<"halfClose">({});
    } catch (error) {
      return failure<"halfClose">(error, {});
    }
  }

  async #close(command: CloseCommand): Promise<Outcome<"close">> {
    try {
      await this.#release(this.#open(command), this.#options.beforeClose);
      return success<"close">({});
    } catch (error) {
      return failure<"close">(error, {});
    }
  }

  async #abort(command: AbortCommand): Promise<Outcome<"abort">> {
    try {
      const connection = this.#open(command);
      setLinger(connection.fd, true, 0);
      await this.#release(connection, this.#options.beforeClose);
      return success<"abort">({});
    } catch (error) {
      return failure<"abort">(error, {});
    }
  }

  /** Ends the waits on the socket, then closes it: only then is the close on the wire. */
  async #release(connection: Connection, before?: () => Promise<void>): Promise<void> {
    connection.open = false;
    await before?.();
    await this.#poller.release(connection.fd);
    check("close", libc().close(connection.fd));
  }

  #info(command: InfoCommand): Outcome<"info"> {
    const connection = this.#connection(command);
    const { local, remote } = connection;
    if (!connection.open) return success<"info">({ open: false, local, remote });
    try {
      const info = new Uint8Array(256);
      const length = new Uint32Array([info.length]);
      check(
        "getsockopt(TCP_INFO)",
        libc().getsockopt(connection.fd, IPPROTO_TCP, TCP_INFO, info, length),
      );
      const state = TCP_STATES[info[0] as keyof typeof TCP_STATES];
      return success<"info">({
        open: true,
        local,
        remote,
        ...(state === undefined ? {} : { state }),
        rcvBuf: getIntOption(connection.fd, SOL_SOCKET, SO_RCVBUF),
        sndBuf: getIntOption(connection.fd, SOL_SOCKET, SO_SNDBUF),
        unread: unreadBytes(connection.fd),
      });
    } catch (error) {
      return failure<"info">(error, {});
    }
  }
}
