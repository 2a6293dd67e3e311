/**
 * A purpose-built server for evaluation fixtures and kernel-model measurements: the reference
 * servers' line protocol (PING → PONG, BIG n → n bytes and a trailer), no application timeout
 * of any kind, exactly the socket options it is told, and optional misbehaviour:
 *
 * - `--keepalive 0|1`, `--keepidle S`, `--keepintvl S`, `--keepcnt N`, `--user-timeout-ms MS`:
 *   set on every accepted socket (only those given; SO_KEEPALIVE off by default);
 * - `--leak 1`: after the peer's EOF, an error or a hangup it never closes the fd (a leak: the
 *   kernel may end the connection, the fd stays);
 * - `--push-after-ms MS` (with `--push-bytes N`, default 1000): MS after a connection's last
 *   exchange (its last response written) it writes N bytes to it, once: a server that writes to
 *   a dead peer only later;
 * - `--exit-after-ms MS`: exits (code 3) MS after its first accept: it dies mid-scenario;
 * - `--exit-on-error 1`: exits (code 4) at the first error or EOF of a connection.
 *
 * ```sh
 * deno run --allow-all lib/runner/testdata/odd_server.ts --address 198.51.100.2 --port 7070 \
 *   --keepalive 1 --keepidle 2 --keepintvl 1 --keepcnt 3 --leak 1
 * ```
 *
 * Logs one line per event to stderr (targets/ref/event_log.ts); exits 2 on a usage error.
 *
 * @module
 */

import {
  errno,
  errnoName,
  getIntOption,
  libc,
  monotonicMs,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  POLLERR,
  pollFds,
  POLLHUP,
  POLLIN,
  POLLOUT,
  revents,
  SIG_IGN,
  SIGPIPE,
  SO_ERROR,
  SOL_SOCKET,
} from "../../libc/libc.ts";
import { logEvent } from "../../../targets/ref/event_log.ts";
import { respond, takeLines } from "../../../targets/ref/line_protocol.ts";
import { acceptClient, openListener } from "../../../targets/ref/listen_socket.ts";
import { Outbox } from "../../../targets/ref/outbox.ts";
import { setTimeoutOptions, timeoutOptions } from "../../../targets/ref/socket_timeouts.ts";

/** What the odd server does; every field but address and port is optional. */
export interface OddServerConfig {
  /** A literal IPv4 or IPv6 address to listen on. */
  address: string;
  /** The port to listen on. */
  port: number;
  /** SO_KEEPALIVE on every accepted socket (default off). */
  keepalive?: boolean;
  /** TCP_KEEPIDLE, seconds. */
  keepIdleS?: number;
  /** TCP_KEEPINTVL, seconds. */
  keepIntvlS?: number;
  /** TCP_KEEPCNT. */
  keepCnt?: number;
  /** TCP_USER_TIMEOUT, ms. */
  userTimeoutMs?: number;
  /** Never close a connection's fd after its EOF, error or hangup. */
  leak?: boolean;
  /** Write `pushBytes` this long after a connection's last exchange, once. */
  pushAfterMs?: number;
  /** Bytes of the late write (default 1000). */
  pushBytes?: number;
  /** Exit (code 3) this long after the first accept. */
  exitAfterMs?: number;
  /** Exit (code 4) at the first error or EOF of a connection. */
  exitOnError?: boolean;
}

const FLAGS = {
  "--address": "address",
  "--port": "port",
  "--keepalive": "keepalive",
  "--keepidle": "keepIdleS",
  "--keepintvl": "keepIntvlS",
  "--keepcnt": "keepCnt",
  "--user-timeout-ms": "userTimeoutMs",
  "--leak": "leak",
  "--push-after-ms": "pushAfterMs",
  "--push-bytes": "pushBytes",
  "--exit-after-ms": "exitAfterMs",
  "--exit-on-error": "exitOnError",
} as const satisfies Record<string, keyof OddServerConfig>;

const BOOLEAN = new Set(["keepalive", "leak", "exitOnError"]);
/** Options the kernel refuses as 0. */
const AT_LEAST_ONE = new Set(["port", "keepIdleS", "keepIntvlS", "keepCnt"]);

/**
 * Parses the command line; throws TypeError on a usage error.
 *
 * @example
 * ```ts
 * import { parseOddServerArgs } from "./odd_server.ts";
 * parseOddServerArgs(["--address", "::1", "--port", "7070", "--leak", "1"]);
 * ```
 */
export function parseOddServerArgs(args: readonly string[]): OddServerConfig {
  const config: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] ?? "";
    const value = args[i + 1];
    if (!(flag in FLAGS) || value === undefined) {
      throw new TypeError(`Expected "--flag value" pairs of known flags, got: "${flag}"`);
    }
    const key = FLAGS[flag as keyof typeof FLAGS];
    if (key === "address") {
      config[key] = value;
      continue;
    }
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || (AT_LEAST_ONE.has(key) && n < 1)) {
      throw new TypeError(
        `Invalid ${flag}: "${value}" (expected an integer >= ${AT_LEAST_ONE.has(key) ? 1 : 0})`,
      );
    }
    if (BOOLEAN.has(key) && n > 1) {
      throw new TypeError(`Invalid ${flag}: "${value}" (expected 0 or 1)`);
    }
    config[key] = BOOLEAN.has(key) ? n === 1 : n;
  }
  if (typeof config.address !== "string") throw new TypeError("Missing --address");
  if (typeof config.port !== "number") throw new TypeError("Missing --port");
  return config as unknown as OddServerConfig;
}

interface Connection {
  fd: number;
  peer: string;
  input: Uint8Array;
  outbox: Outbox;
  /** When its last response was fully written (or it was accepted). */
  lastExchange: number;
  pushed: boolean;
}

const READ_BYTES = 64 * 1024;

/** Serves forever (or until told to exit). */
function serve(config: OddServerConfig): never {
  libc().signal(SIGPIPE, SIG_IGN);
  const listener = openListener(config.address, config.port, true);
  logEvent("listen", { address: config.address, port: config.port });
  const connections = new Map<number, Connection>();
  const leaked = new Set<number>();
  const buffer = new Uint8Array(READ_BYTES);
  let exitAt = Infinity;

  const end = (c: Connection, reason: string, how: "fin" | "dead"): void => {
    connections.delete(c.fd);
    if (config.exitOnError && reason !== "push") {
      logEvent("exit", { reason: `${reason} on fd ${c.fd}`, code: 4 });
      Deno.exit(4);
    }
    if (config.leak) {
      leaked.add(c.fd);
      logEvent("leak", { fd: c.fd, peer: c.peer, reason });
      return;
    }
    libc().close(c.fd);
    logEvent("close", { fd: c.fd, peer: c.peer, reason, how });
  };

  for (;;) {
    const now = monotonicMs();
    if (now >= exitAt) {
      logEvent("exit", { reason: "exit-after", code: 3 });
      Deno.exit(3);
    }
    let wait = exitAt - now;
    for (const c of connections.values()) {
      if (config.pushAfterMs === undefined || c.pushed || !c.outbox.empty) continue;
      const due = c.lastExchange + config.pushAfterMs;
      if (due <= now) {
        c.pushed = true;
        c.outbox.push([config.pushBytes ?? 1000]);
        logEvent("push", { fd: c.fd, peer: c.peer, bytes: config.pushBytes ?? 1000 });
      } else wait = Math.min(wait, due - now);
    }
    const list = [...connections.values()];
    const table = pollFds([
      { fd: listener, events: POLLIN },
      ...list.map((c) => ({ fd: c.fd, events: c.outbox.empty ? POLLIN : POLLIN | POLLOUT })),
    ]);
    const timeout = wait === Infinity ? -1 : Math.max(1, Math.ceil(wait));
    if (libc().poll(table, BigInt(list.length + 1), timeout) < 0) {
      if (errnoName(errno()) === "EINTR") continue;
      throw new Error(`Poll failed: ${errnoName(errno())}`);
    }
    if (revents(table, 0) !== 0) {
      for (;;) {
        const accepted = acceptClient(listener, true);
        if (typeof accepted === "number") break;
        setTimeoutOptions(accepted.fd, config);
        connections.set(accepted.fd, {
          ...accepted,
          input: new Uint8Array(),
          outbox: new Outbox(),
          lastExchange: monotonicMs(),
          pushed: false,
        });
        if (config.exitAfterMs !== undefined && exitAt === Infinity) {
          exitAt = monotonicMs() + config.exitAfterMs;
        }
        logEvent("accept", {
          fd: accepted.fd,
          peer: accepted.peer,
          ...timeoutOptions(accepted.fd),
        });
      }
    }
    list.forEach((c, index) => {
      const events = revents(table, index + 1);
      if (events === 0 || !connections.has(c.fd)) return;
      if (events & POLLERR) {
        const code = getIntOption(c.fd, SOL_SOCKET, SO_ERROR);
        logEvent("error", { fd: c.fd, peer: c.peer, op: "poll", errno: errnoName(code) });
        return end(c, "error", "dead");
      }
      if (events & POLLIN) {
        const n = Number(libc().recv(c.fd, buffer, BigInt(buffer.byteLength), MSG_DONTWAIT));
        if (n < 0 && errnoName(errno()) !== "EAGAIN") {
          logEvent("error", { fd: c.fd, peer: c.peer, op: "recv", errno: errnoName(errno()) });
          return end(c, "error", "dead");
        }
        if (n === 0) return end(c, "peer-fin", "fin");
        if (n > 0) {
          const input = new Uint8Array(c.input.byteLength + n);
          input.set(c.input);
          input.set(buffer.subarray(0, n), c.input.byteLength);
          const { lines, rest } = takeLines(input);
          c.input = rest;
          for (const line of lines) c.outbox.push(respond(line));
        }
      } else if (events & POLLHUP) {
        return end(c, "hangup", "dead");
      }
      while (!c.outbox.empty) {
        const chunk = c.outbox.next()!;
        const n = Number(
          libc().send(c.fd, chunk, BigInt(chunk.byteLength), MSG_NOSIGNAL | MSG_DONTWAIT),
        );
        if (n < 0) {
          if (errnoName(errno()) === "EAGAIN") return;
          logEvent("error", { fd: c.fd, peer: c.peer, op: "send", errno: errnoName(errno()) });
          return end(c, "error", "dead");
        }
        c.outbox.consume(n);
        if (c.outbox.empty) c.lastExchange = monotonicMs();
      }
    });
  }
}

if (import.meta.main) {
  let config: OddServerConfig;
  try {
    config = parseOddServerArgs(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(2);
  }
  try {
    serve(config);
  } catch (error) {
    logEvent("fatal", { message: JSON.stringify(String(error)) });
    Deno.exit(1);
  }
}
