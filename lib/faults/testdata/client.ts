/**
 * Test fixture run in the client host: binds `<local>`, connects to `<server> <port>` with real
 * libc sockets (Deno.connect cannot choose the source address), then reads continuously.
 * Prints one JSON event per line: connected (local port) or connect-failed (error), received
 * (total, once it reaches an awaited count), eof, error (errno name), sent.
 * Commands on stdin: `send <bytes>`, `await <bytes>`. Exits when stdin closes, or right after
 * the connect attempt with `--once`.
 *
 * Usage: `client.ts <local> <server> <port> <connect-timeout-ms> [--once]`
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  check,
  errno,
  errnoName,
  getIntOption,
  libc,
  localAddress,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  POLLERR,
  pollFds,
  POLLHUP,
  POLLIN,
  POLLOUT,
  revents,
  SO_ERROR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  sockaddr,
  SOL_SOCKET,
} from "../../libc/libc.ts";

const EAGAIN = 11;

function emit(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}

async function connect(local: string, server: string, port: number, timeoutMs: number) {
  const c = libc();
  const family = server.includes(":") ? AF_INET6 : AF_INET;
  const fd = check("socket", c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const here = sockaddr(local, 0);
  check("bind", c.bind(fd, here, here.length));
  const there = sockaddr(server, port);
  // The outcome is read from poll and SO_ERROR, not errno: errno read through FFI right after
  // a call has been seen stale (ENOENT after a connect that was in progress).
  c.connect(fd, there, there.length);
  const fds = pollFds([{ fd, events: POLLOUT }]);
  if (await c.poll_async(fds, 1n, timeoutMs) === 0) return { fd, error: "timeout" };
  const error = getIntOption(fd, SOL_SOCKET, SO_ERROR);
  if (error) return { fd, error: errnoName(error) };
  if (revents(fds, 0) & (POLLHUP | POLLERR)) return { fd, error: "not connected" };
  return { fd };
}

async function readAll(fd: number, awaited: { bytes: number; total: number }): Promise<void> {
  const c = libc();
  const buf = new Uint8Array(65536);
  for (;;) {
    if (await c.poll_async(pollFds([{ fd, events: POLLIN }]), 1n, 100) === 0) continue;
    const n = Number(c.recv(fd, buf, BigInt(buf.length), MSG_DONTWAIT));
    if (n < 0 && errno() === EAGAIN) continue;
    if (n < 0) return emit({ event: "error", op: "read", error: errnoName(errno()) });
    if (n === 0) return emit({ event: "eof" });
    awaited.total += n;
    if (awaited.bytes > 0 && awaited.total >= awaited.bytes) {
      emit({ event: "received", total: awaited.total });
      awaited.bytes = 0;
    }
  }
}

async function send(fd: number, bytes: number): Promise<void> {
  const data = new Uint8Array(bytes).fill(0x62);
  for (let off = 0, tries = 0; off < data.length && tries < 1000; tries++) {
    const n = Number(libc().send(fd, data.subarray(off), BigInt(data.length - off), MSG_NOSIGNAL));
    if (n < 0 && errno() !== EAGAIN) {
      return emit({ event: "error", op: "send", error: errnoName(errno()) });
    }
    if (n > 0) off += n;
    else await libc().poll_async(pollFds([{ fd, events: POLLOUT }]), 1n, 100);
  }
  emit({ event: "sent", bytes });
}

if (import.meta.main) {
  const [local = "", server = "", port = "0", timeoutMs = "3000", once] = Deno.args;
  const { fd, error } = await connect(local, server, Number(port), Number(timeoutMs));
  if (error) emit({ event: "connect-failed", error });
  else emit({ event: "connected", local: localAddress(fd) });
  if (error || once === "--once") Deno.exit(0);
  const awaited = { bytes: 0, total: 0 };
  readAll(fd, awaited);
  let pending = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
      const [command, bytes] = pending.slice(0, nl).split(" ");
      pending = pending.slice(nl + 1);
      if (command === "send") send(fd, Number(bytes));
      if (command === "await") {
        awaited.bytes = Number(bytes);
        if (awaited.total >= awaited.bytes) {
          emit({ event: "received", total: awaited.total });
          awaited.bytes = 0;
        }
      }
    }
  }
  Deno.exit(0);
}
