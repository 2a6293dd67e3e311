/**
 * Test fixture: a TCP server whose socket options are exactly known. Every connection it
 * accepts gets SO_KEEPALIVE=1, TCP_KEEPIDLE=2, TCP_KEEPINTVL=1, TCP_KEEPCNT=3 and
 * TCP_USER_TIMEOUT=4000, and is then held open, never read, never closed. Deno.listen cannot
 * set TCP_KEEPIDLE and friends, hence libc. Prints nothing; errors go to stderr.
 *
 * Usage: `deno run --allow-ffi keepalive_server.ts <address> <port> [lifetime-ms]`
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  check,
  IPPROTO_TCP,
  libc,
  monotonicMs,
  pollFds,
  POLLIN,
  revents,
  setIntOption,
  SO_KEEPALIVE,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  sockaddr,
  SOL_SOCKET,
  TCP_KEEPCNT,
  TCP_KEEPIDLE,
  TCP_KEEPINTVL,
  TCP_USER_TIMEOUT,
} from "../../libc/libc.ts";

/** The options every accepted connection gets. */
export const FIXTURE_OPTIONS = {
  keepalive: true,
  keepIdleS: 2,
  keepIntvlS: 1,
  keepCnt: 3,
  userTimeoutMs: 4000,
} as const;

/** Accepts at most this many connections: the fixture never needs more. */
const MAX_CONNECTIONS = 64;

function serve(address: string, port: number, lifetimeMs: number): Promise<void> {
  const family = address.includes(":") ? AF_INET6 : AF_INET;
  const listener = check("socket", libc().socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  setIntOption(listener, SOL_SOCKET, SO_REUSEADDR, 1);
  const local = sockaddr(address, port);
  check("bind", libc().bind(listener, local, local.byteLength));
  check("listen", libc().listen(listener, 16));
  const deadline = monotonicMs() + lifetimeMs;
  const held: number[] = [];
  return (async () => {
    const pfd = pollFds([{ fd: listener, events: POLLIN }]);
    while (held.length < MAX_CONNECTIONS && monotonicMs() < deadline) {
      const ready = await libc().poll_async(pfd, 1n, 200);
      if (ready <= 0 || !(revents(pfd, 0) & POLLIN)) continue;
      const fd = check("accept4", libc().accept4(listener, null, null, SOCK_CLOEXEC));
      setIntOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
      setIntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE, FIXTURE_OPTIONS.keepIdleS);
      setIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL, FIXTURE_OPTIONS.keepIntvlS);
      setIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT, FIXTURE_OPTIONS.keepCnt);
      setIntOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, FIXTURE_OPTIONS.userTimeoutMs);
      held.push(fd);
    }
    // Hold every connection, even one the kernel has aborted, until the lifetime ends.
    const rest = deadline - monotonicMs();
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
  })();
}

if (import.meta.main) {
  const [address, port, lifetime = "60000"] = Deno.args;
  if (address === undefined || port === undefined) {
    console.error("Usage: keepalive_server.ts <address> <port> [lifetime-ms]");
    Deno.exit(2);
  }
  await serve(address, Number(port), Number(lifetime));
}
