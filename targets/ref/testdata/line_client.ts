/**
 * Test fixture: one TCP connection in the lab's client host, driven line by line on stdin,
 * one reply line per command on stdout. Not the client agent (lib/client/); just enough to
 * talk to the reference servers.
 *
 * ```
 * deno run --allow-all line_client.ts <address> <port>   → "connected" | "error <ERRNO>"
 * send <json string>                → ok
 * read <json string> <timeoutMs>    → ok <ms> <bytes> | timeout <bytes> | eof <bytes> | error <ERRNO> <bytes>
 * drain <timeoutMs>                 → eof <ms> | error <ERRNO> <ms> | timeout
 * abort                             → ok        (SO_LINGER {1,0} + close: RST)
 * ```
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  errno,
  errnoName,
  libc,
  monotonicMs,
  MSG_NOSIGNAL,
  pollFds,
  POLLIN,
  setLinger,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  sockaddr,
} from "../../../lib/libc/libc.ts";

const encoder = new TextEncoder();
const buffer = new Uint8Array(64 * 1024);
/** Received bytes not yet matched by a read. */
let pending = "";

function connect(address: string, port: number): number {
  const fd = libc().socket(
    address.includes(":") ? AF_INET6 : AF_INET,
    SOCK_STREAM | SOCK_CLOEXEC,
    0,
  );
  const addr = sockaddr(address, port);
  if (fd < 0 || libc().connect(fd, addr, addr.byteLength) < 0) {
    console.log(`error ${errnoName(errno())}`);
    Deno.exit(1);
  }
  return fd;
}

/** Receives once within the time left: bytes, "eof", an errno name, or "timeout". */
function receive(fd: number, deadline: number): number | "eof" | "timeout" | string {
  const table = pollFds([{ fd, events: POLLIN }]);
  const wait = Math.max(0, Math.ceil(deadline - monotonicMs()));
  if (libc().poll(table, 1n, wait) === 0) return "timeout";
  const n = Number(libc().recv(fd, buffer, BigInt(buffer.byteLength), 0));
  if (n < 0) return errnoName(errno());
  if (n === 0) return "eof";
  pending += new TextDecoder().decode(buffer.subarray(0, n));
  return n;
}

function read(fd: number, until: string, timeoutMs: number): string {
  const start = monotonicMs();
  const deadline = start + timeoutMs;
  for (let round = 0; round < 1_000_000; round++) {
    const end = pending.indexOf(until);
    if (end >= 0) {
      const bytes = end + until.length;
      pending = pending.slice(bytes);
      return `ok ${(monotonicMs() - start).toFixed(1)} ${bytes}`;
    }
    const got = receive(fd, deadline);
    if (typeof got === "number") continue;
    return got === "timeout" || got === "eof"
      ? `${got} ${pending.length}`
      : `error ${got} ${pending.length}`;
  }
  return `timeout ${pending.length}`;
}

function drain(fd: number, timeoutMs: number): string {
  const start = monotonicMs();
  for (let round = 0; round < 1_000_000; round++) {
    const got = receive(fd, start + timeoutMs);
    pending = "";
    if (typeof got === "number") continue;
    const at = monotonicMs();
    const ms = `${(at - start).toFixed(1)} ${at.toFixed(1)}`;
    return got === "timeout" ? "timeout" : got === "eof" ? `eof ${ms}` : `error ${got} ${ms}`;
  }
  return "timeout";
}

function handle(fd: number, line: string): string {
  const [command = "", ...rest] = line.split(" ");
  switch (command) {
    case "send": {
      const bytes = encoder.encode(JSON.parse(rest.join(" ")));
      const n = Number(libc().send(fd, bytes, BigInt(bytes.byteLength), MSG_NOSIGNAL));
      return n === bytes.byteLength ? "ok" : `error ${errnoName(errno())}`;
    }
    case "read": {
      const timeoutMs = Number(rest.pop());
      return read(fd, JSON.parse(rest.join(" ")), timeoutMs);
    }
    case "drain":
      return drain(fd, Number(rest[0]));
    case "abort":
      setLinger(fd, true, 0);
      libc().close(fd);
      return "ok";
    default:
      return `error unknown command "${command}"`;
  }
}

if (import.meta.main) {
  const fd = connect(Deno.args[0] ?? "", Number(Deno.args[1]));
  console.log("connected");
  let input = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    input += chunk;
    for (let end = input.indexOf("\n"); end >= 0; end = input.indexOf("\n")) {
      console.log(handle(fd, input.slice(0, end)));
      input = input.slice(end + 1);
    }
  }
}
