/**
 * The libc calls clientdown needs and Deno does not offer: raw sockets with every option,
 * recvmsg with its control messages (kernel receive timestamps), poll, signal dispositions,
 * pidfd_getfd, the clocks, and network namespaces (setns, unshare, the bind mount that names
 * one). Linux x86_64 / aarch64 only.
 *
 * Calls marked `nonblocking` run on a worker thread and return a promise; errno is
 * thread-local, so those are only ever used where the result alone tells what happened.
 *
 * @module
 */

import { controlMessages, timespecMs } from "./cmsg.ts";

const symbols = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  poll_async: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  signal: { parameters: ["i32", "usize"], result: "usize" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  pidfd_open: { parameters: ["i32", "u32"], result: "i32" },
  pidfd_getfd: { parameters: ["i32", "i32", "u32"], result: "i32" },
  unshare: { parameters: ["i32"], result: "i32" },
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

let library: Deno.DynamicLibrary<typeof symbols> | undefined;

/** The bound libc symbols, opened on first use. */
export function libc(): Deno.DynamicLibrary<typeof symbols>["symbols"] {
  library ??= Deno.dlopen("libc.so.6", symbols);
  return library.symbols;
}

export const AF_INET = 2;
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_ERROR = 4;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_LINGER = 13;
/** Receive timestamps as `struct timespec` on CLOCK_REALTIME (the 64-bit ABI's value). */
export const SO_TIMESTAMPNS = 35;
/** The control message type that carries an SO_TIMESTAMPNS stamp. */
export const SCM_TIMESTAMPNS = SO_TIMESTAMPNS;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_INFO = 11;
export const TCP_USER_TIMEOUT = 18;
/** Linux >= 6.15; older kernels answer ENOPROTOOPT and use a fixed 120 s. */
export const TCP_RTO_MAX_MS = 44;
export const SHUT_WR = 1;
export const MSG_PEEK = 0x2;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
/** ioctl: bytes in a socket's receive queue (SIOCINQ). */
export const FIONREAD = 0x541b;
export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
export const CLONE_NEWNET = 0x40000000;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
export const SIGPIPE = 13;
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;
export const MS_BIND = 0x1000;
export const MNT_DETACH = 2;
const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;

/** Names of the errno values a TCP peer can meet; others print as their number. */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  9: "EBADF",
  11: "EAGAIN",
  13: "EACCES",
  22: "EINVAL",
  24: "EMFILE",
  32: "EPIPE",
  17: "EEXIST",
  38: "ENOSYS",
  95: "EOPNOTSUPP",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  101: "ENETUNREACH",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  107: "ENOTCONN",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
  115: "EINPROGRESS",
};

/** The symbolic name of an errno value, e.g. `ECONNRESET`. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** The calling thread's errno; valid right after a failed synchronous call. */
export function errno(): number {
  const pointer = libc().__errno_location();
  return pointer === null ? 0 : new Deno.UnsafePointerView(pointer).getInt32();
}

/** A failed libc call, carrying errno and its name. */
export class SyscallError extends Error {
  /** The errno value. */
  readonly errno: number;
  /** The errno name, e.g. `ECONNRESET`. */
  readonly code: string;
  constructor(call: string, errnoValue: number) {
    super(`${call} failed: ${errnoName(errnoValue)}`);
    this.name = "SyscallError";
    this.errno = errnoValue;
    this.code = errnoName(errnoValue);
  }
}

/** Throws a SyscallError when a libc call returned a negative value. */
export function check<T extends number | bigint>(call: string, result: T): T {
  if (result < 0) throw new SyscallError(call, errno());
  return result;
}

/** Milliseconds on CLOCK_MONOTONIC, the one clock every clientdown process shares. */
export function monotonicMs(): number {
  const ts = new BigInt64Array(2);
  libc().clock_gettime(CLOCK_MONOTONIC, ts);
  return Number(ts[0]) * 1000 + Number(ts[1]) / 1e6;
}

/** Milliseconds on CLOCK_REALTIME (wall clock), to convert foreign timestamps to monotonicMs. */
export function realtimeMs(): number {
  const ts = new BigInt64Array(2);
  libc().clock_gettime(CLOCK_REALTIME, ts);
  return Number(ts[0]) * 1000 + Number(ts[1]) / 1e6;
}

/** What one recvmsg() got: its result (negative on failure: read errno) and the receive stamp. */
export interface StampedRead {
  n: number;
  /**
   * The kernel's receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME ms) of the last segment this
   * call read from, when the socket asked for stamps: read one byte to get the first segment's.
   */
  receivedRealtimeMs?: number;
}

const CONTROL_BYTES = 64;

/** recvmsg() into `buf[0, length)` with room for control messages; see StampedRead. */
export function recvStamped(
  fd: number,
  buf: Uint8Array,
  length: number,
  flags: number,
): StampedRead {
  const control = new Uint8Array(CONTROL_BYTES);
  const iovec = new BigUint64Array([
    BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf))),
    BigInt(Math.min(length, buf.length)),
  ]);
  // struct msghdr: name, namelen (+pad), iov, iovlen, control, controllen, flags (+pad).
  const header = new BigUint64Array(7);
  header[2] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(iovec)));
  header[3] = 1n;
  header[4] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(control)));
  header[5] = BigInt(CONTROL_BYTES);
  const n = Number(libc().recvmsg(fd, header, flags));
  if (n < 0) return { n };
  const stamp = controlMessages(control, Number(header[5]))
    .find((m) => m.level === SOL_SOCKET && m.type === SCM_TIMESTAMPNS);
  const receivedRealtimeMs = stamp && timespecMs(stamp.data);
  return receivedRealtimeMs === undefined ? { n } : { n, receivedRealtimeMs };
}

/** Bytes waiting in a socket's receive queue. */
export function unreadBytes(fd: number): number {
  const count = new Int32Array(1);
  check("ioctl(FIONREAD)", libc().ioctl(fd, BigInt(FIONREAD), count));
  return count[0] ?? 0;
}

/** A string as C has it: UTF-8, NUL-terminated (a path, a name, a netlink string attribute). */
export function cString(text: string): Uint8Array {
  return new TextEncoder().encode(`${text}\0`);
}

/** The bytes of a literal IPv4 or IPv6 address in network order: 4 or 16. */
export function addressBytes(address: string): Uint8Array {
  const raw = sockaddr(address, 0);
  return address.includes(":") ? raw.slice(8, 24) : raw.slice(4, 8);
}

/** Encodes an IPv4 or IPv6 socket address (a literal address, no names). */
export function sockaddr(address: string, port: number): Uint8Array {
  if (address.includes(":")) {
    const buf = new Uint8Array(28);
    const view = new DataView(buf.buffer);
    view.setUint16(0, AF_INET6, true);
    view.setUint16(2, port, false);
    buf.set(parseIpv6(address), 8);
    return buf;
  }
  const buf = new Uint8Array(16);
  const view = new DataView(buf.buffer);
  view.setUint16(0, AF_INET, true);
  view.setUint16(2, port, false);
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new TypeError(`Invalid IPv4 address: "${address}"`);
  }
  buf.set(parts, 4);
  return buf;
}

/** Decodes the port and address of a socket address written by the kernel. */
export function decodeSockaddr(buf: Uint8Array): { address: string; port: number } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const family = view.getUint16(0, true);
  const port = view.getUint16(2, false);
  if (family === AF_INET6) {
    const groups = [];
    for (let i = 0; i < 8; i++) groups.push(view.getUint16(8 + i * 2, false).toString(16));
    return { address: groups.join(":"), port };
  }
  return { address: Array.from(buf.subarray(4, 8)).join("."), port };
}

function parseIpv6(address: string): Uint8Array {
  const [head = "", tail] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = 8 - headGroups.length - tailGroups.length;
  if (fill < 0 || (tail === undefined && fill !== 0)) {
    throw new TypeError(`Invalid IPv6 address: "${address}"`);
  }
  const groups = [...headGroups, ...Array(fill).fill("0"), ...tailGroups];
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  groups.forEach((g, i) => {
    const value = parseInt(g, 16);
    if (!/^[0-9a-f]{1,4}$/i.test(g)) throw new TypeError(`Invalid IPv6 address: "${address}"`);
    view.setUint16(i * 2, value, false);
  });
  return out;
}

/** Sets an integer socket option. */
export function setIntOption(fd: number, level: number, name: number, value: number): void {
  const buf = new Int32Array([value]);
  check("setsockopt", libc().setsockopt(fd, level, name, buf, 4));
}

/** Reads an integer socket option. */
export function getIntOption(fd: number, level: number, name: number): number {
  const buf = new Int32Array(1);
  const len = new Uint32Array([4]);
  check("getsockopt", libc().getsockopt(fd, level, name, buf, len));
  return buf[0] ?? 0;
}

/** Sets SO_LINGER to {on, seconds}; {1, 0} makes close() send RST. */
export function setLinger(fd: number, on: boolean, seconds: number): void {
  const buf = new Int32Array([on ? 1 : 0, seconds]);
  check("setsockopt(SO_LINGER)", libc().setsockopt(fd, SOL_SOCKET, SO_LINGER, buf, 8));
}

/** The local address and port of a socket. */
export function localAddress(fd: number): { address: string; port: number } {
  const buf = new Uint8Array(28);
  const len = new Uint32Array([28]);
  check("getsockname", libc().getsockname(fd, buf, len));
  return decodeSockaddr(buf);
}

/** One pollfd entry per descriptor, events in, revents out. */
export function pollFds(fds: readonly { fd: number; events: number }[]): Uint8Array {
  const buf = new Uint8Array(fds.length * 8);
  const view = new DataView(buf.buffer);
  fds.forEach((p, i) => {
    view.setInt32(i * 8, p.fd, true);
    view.setInt16(i * 8 + 4, p.events, true);
  });
  return buf;
}

/** The revents of entry `index` after poll(). */
export function revents(buf: Uint8Array, index: number): number {
  return new DataView(buf.buffer).getInt16(index * 8 + 6, true);
}
