/**
 * The listening socket of the reference servers, and accepting from it.
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  check,
  decodeSockaddr,
  errno,
  libc,
  setIntOption,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  sockaddr,
  SOL_SOCKET,
} from "../../lib/libc/libc.ts";

const BACKLOG = 128;

/** Opens a TCP socket listening on a literal IPv4 or IPv6 address. */
export function openListener(address: string, port: number, nonblocking: boolean): number {
  const family = address.includes(":") ? AF_INET6 : AF_INET;
  const type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  const fd = check("socket", libc().socket(family, type, 0));
  setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  const addr = sockaddr(address, port);
  check("bind", libc().bind(fd, addr, addr.byteLength));
  check("listen", libc().listen(fd, BACKLOG));
  return fd;
}

/** An accepted connection: its fd and the peer as `address:port` (`[v6]:port`). */
export interface Accepted {
  /** The connected socket. */
  fd: number;
  /** The peer, for the log. */
  peer: string;
}

/** Accepts one connection; returns the errno instead when accept4 fails. */
export function acceptClient(listener: number, nonblocking: boolean): Accepted | number {
  const addr = new Uint8Array(28);
  const length = new Uint32Array([addr.byteLength]);
  const flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  const fd = libc().accept4(listener, addr, length, flags);
  if (fd < 0) return errno();
  const { address, port } = decodeSockaddr(addr);
  return { fd, peer: address.includes(":") ? `[${address}]:${port}` : `${address}:${port}` };
}
