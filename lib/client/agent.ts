/**
 * The client agent: drives real sockets in the client host, one command at a time but many
 * at once. Start it inside the client host's namespace:
 *
 * ```sh
 * ip netns exec <client-ns> deno run --allow-all lib/client/agent.ts
 * ```
 *
 * It reads JSON-line commands (see protocol.ts) on stdin and writes one reply per command on
 * stdout; it exits when stdin ends. Sockets are non-blocking and every wait goes through one
 * poll loop, so a read that waits never blocks the next command. Sends always carry
 * MSG_NOSIGNAL: a peer's RST must never kill the agent with SIGPIPE.
 *
 * Permissions: `--allow-ffi` (libc), `--allow-read` (the libc path).
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
  setIntOption,
  setLinger,
  SHUT_WR,
  SO_ERROR,
  SO_RCVBUF,
  SO_SNDBUF,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  sockaddr,
  SOL_SOCKET,
  SyscallError,
  TCP_INFO,
} from "../libc/libc.ts";
import { TCP_STATES } from "../observe/proc_net_tcp.ts";
import { Poller } from "./poller.ts";
import {
  type AbortCommand,
  type CloseCommand,
  type ConnectCommand,
  encodeLine,
  type Endpoint,
  type HalfCloseCommand,
  type InfoCommand,
  type Op,
  type Outcome,
  type ReadCommand,
  readLines,
  type ReadResult,
  type Reply,
  type Request,
  type SendCommand,
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
}

/** A command that cannot be carried out at all (a harness bug), answered with `usage`. */
class UsageError extends TypeError {
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

/** The agent's connections and the commands on them. */
export class Agent {
  readonly #poller = new Poller();
  readonly #connections = new Map<number, Connection>();
  #nextId = 1;

  /** Carries out one command; never throws for what a socket did, only reports it. */
  async handle(request: Request): Promise<Reply> {
    try {
      return { ...(await this.#dispatch(request)), seq: request.seq };
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      return {
        seq: request.seq,
        usage: true,
        ok: false,
        error: "EINVAL",
        message: error.message,
        t: monotonicMs(),
      };
    }
  }

  #dispatch(command: Request): Promise<Outcome<Op>> | Outcome<Op> {
    switch (command.op) {
      case "hello":
        return success<"hello">({ pid: Deno.pid });
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
      fd = check("socket", libc().socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    } catch (error) {
      return failure<"connect">(error, {});
    }
    const connection: Connection = {
      fd,
      local: { address: "", port: 0 },
      remote: { address: command.address, port: command.port },
      open: true,
      busy: new Set(),
    };
    try {
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
    const data = new TextEncoder().encode(command.data);
    let sent = 0;
    try {
      const connection = this.#open(command);
      while (sent < data.length) {
        const rest = data.subarray(sent);
        const n = Number(
          libc().send(connection.fd, rest, BigInt(rest.length), MSG_NOSIGNAL | MSG_DONTWAIT),
        );
        if (n >= 0) {
          sent += n;
          continue;
        }
        const code = errno();
        if (code !== EAGAIN) throw new SyscallError("send", code);
        await this.#ready(connection, POLLOUT, deadline, "send");
      }
      return success<"send">({ bytes: sent });
    } catch (error) {
      return failure<"send">(error, { bytes: sent });
    }
  }

  async #read(command: ReadCommand): Promise<Outcome<"read">> {
    const deadline = monotonicMs() + command.timeoutMs;
    const marker = command.until === undefined || command.until === ""
      ? undefined
      : new TextEncoder().encode(command.until);
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
        if (result.bytes >= yieldAt) {
          yieldAt += YIELD_EVERY_BYTES;
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        if (connection.readStopped) throw new SocketFailure("ECANCELED", "The read was stopped");
        const want = Math.min(READ_CHUNK, (command.bytes ?? Infinity) - result.bytes);
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
      await this.#release(this.#open(command));
      return success<"close">({});
    } catch (error) {
      return failure<"close">(error, {});
    }
  }

  async #abort(command: AbortCommand): Promise<Outcome<"abort">> {
    try {
      const connection = this.#open(command);
      setLinger(connection.fd, true, 0);
      await this.#release(connection);
      return success<"abort">({});
    } catch (error) {
      return failure<"abort">(error, {});
    }
  }

  /** Ends the waits on the socket, then closes it: only then is the close on the wire. */
  async #release(connection: Connection): Promise<void> {
    connection.open = false;
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
      });
    } catch (error) {
      return failure<"info">(error, {});
    }
  }
}

function writeAll(data: Uint8Array): void {
  let written = 0;
  while (written < data.length) written += Deno.stdout.writeSync(data.subarray(written));
}

function usage(seq: number, message: string): Reply {
  return { seq, usage: true, ok: false, error: "EINVAL", message, t: monotonicMs() };
}

async function main(): Promise<void> {
  const agent = new Agent();
  for await (const line of readLines(Deno.stdin.readable)) {
    if (!line.trim()) continue;
    let request: Request;
    try {
      request = JSON.parse(line);
    } catch {
      console.error(`Malformed command line: "${line}"`);
      continue;
    }
    if (typeof request?.seq !== "number") {
      console.error(`Command without a numeric "seq": "${line}"`);
      continue;
    }
    const { seq, op } = request;
    // Not awaited: the next command is read while this one waits on its socket.
    agent.handle(request)
      .catch((error) => usage(seq, `Agent failed on "${op}": ${error}`))
      .then((reply) => writeAll(encodeLine(reply)));
  }
  // stdin ended: the runner stopped us or is gone. Exiting closes every socket (kernel rule).
  Deno.exit(0);
}

if (import.meta.main) await main();
