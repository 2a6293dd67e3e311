/**
 * Netlink from the runner itself: a socket opened in a lab's namespace once, then requests to
 * that namespace's kernel with no process started. The kernel handles a request to itself
 * inside the sending system call, so when `send` returns the change is in place; its answer
 * (an acknowledgment or an errno) is already queued on the socket.
 *
 * @module
 */

import {
  AF_NETLINK,
  check,
  errnoName,
  libc,
  monotonicMs,
  MSG_DONTWAIT,
  SOCK_CLOEXEC,
  SOCK_RAW,
} from "./libc.ts";
import { inNetns } from "./netns.ts";

/** Netlink families used here. */
export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
export const NETLINK_NETFILTER = 12;

/** nlmsghdr flags. */
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_CREATE = 0x400;
/** The flag of an attribute that holds attributes. */
export const NLA_F_NESTED = 0x8000;
const NLMSG_ERROR = 0x2;
/** errno: no such object. */
const ENOENT = 2;
const NLMSG_DONE = 0x3;
const HEADER = 16;

const align4 = (n: number) => (n + 3) & ~3;

/** One netlink attribute (nlattr): its type and payload, padded to 4 bytes. */
export function attr(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(align4(4 + payload.length));
  const view = new DataView(out.buffer);
  view.setUint16(0, 4 + payload.length, true);
  view.setUint16(2, type, true);
  out.set(payload, 4);
  return out;
}

/** A nested attribute: `parts` (attributes themselves) under `type`. */
export function nested(type: number, parts: readonly Uint8Array[]): Uint8Array {
  return attr(type | NLA_F_NESTED, concat(parts));
}

/** A 32-bit big-endian payload (netfilter's attributes are in network order). */
export function be32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** One netlink message: header, then `body` (family header and attributes). */
export function message(type: number, flags: number, seq: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + align4(body.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, HEADER + body.length, true);
  view.setUint16(4, type, true);
  view.setUint16(6, flags, true);
  view.setUint32(8, seq, true);
  out.set(body, HEADER);
  return out;
}

/** The kernel refused a netlink request. */
export class NetlinkError extends Error {
  /** The errno value. */
  readonly errno: number;
  constructor(what: string, errno: number) {
    super(`${what} failed: ${errnoName(errno)}`);
    this.name = "NetlinkError";
    this.errno = errno;
  }
}

/** When a request was sent and when the kernel had done it (its `send` returned). */
export interface Done {
  /** Monotonic ms just before the send system call. */
  sentAt: number;
  /** Monotonic ms just after it returned: the change was in place by then. */
  doneAt: number;
}

/** A netlink socket in one network namespace. */
export class NetlinkSocket {
  readonly #fd: number;
  /** Where `get` receives: one socket's answer (inet_diag_msg and tcp_info) fits. */
  readonly #answer = new Uint8Array(4096);
  #seq = 1;
  #closed = false;

  /** Opens a socket of `protocol` in `netns` (a name under /run/netns). */
  constructor(netns: string, protocol: number) {
    this.#fd = inNetns(
      netns,
      () =>
        check("socket(AF_NETLINK)", libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol)),
    );
  }

  /** A fresh sequence number for a request's messages. */
  nextSeq(): number {
    return this.#seq++;
  }

  /**
   * Sends `request` (one or more messages, one of them asking for an acknowledgment with
   * `ackSeq`) and returns when it was done; throws NetlinkError when the kernel refused it.
   */
  request(what: string, request: Uint8Array, ackSeq: number): Done {
    if (this.#closed) throw new Error(`Netlink socket closed: ${what}`);
    const buf = new Uint8Array(8192);
    // What an earlier refused request left queued must not answer for this one.
    while (Number(libc().recv(this.#fd, buf, BigInt(buf.length), MSG_DONTWAIT)) > 0);
    const sentAt = monotonicMs();
    const sent = libc().send(this.#fd, request, BigInt(request.length), 0);
    const doneAt = monotonicMs();
    check(`send(${what})`, sent);
    // The kernel answered inside send: each answer is queued already, none is waited for.
    for (let i = 0; i < 64; i++) {
      const got = Number(libc().recv(this.#fd, buf, BigInt(buf.length), MSG_DONTWAIT));
      if (got <= 0) break;
      const view = new DataView(buf.buffer, 0, got);
      for (let at = 0; at + HEADER <= got;) {
        const len = view.getUint32(at, true);
        if (view.getUint16(at + 4, true) === NLMSG_ERROR) {
          // An error names the message it refused; an acknowledgment is an error of 0.
          const error = -view.getInt32(at + HEADER, true);
          if (error !== 0) throw new NetlinkError(what, error);
          if (view.getUint32(at + 8, true) === ackSeq) return { sentAt, doneAt };
        }
        at += align4(Math.max(len, HEADER));
      }
    }
    throw new Error(`No acknowledgment from the kernel for ${what}`);
  }

  /**
   * Sends a request for one object (a socket by its addresses) and returns the body of the
   * kernel's answer, or undefined when it has none (ENOENT). The kernel answers inside `send`.
   */
  get(what: string, request: Uint8Array): Uint8Array | undefined {
    if (this.#closed) throw new Error(`Netlink socket closed: ${what}`);
    const buf = this.#answer;
    while (Number(libc().recv(this.#fd, buf, BigInt(buf.length), MSG_DONTWAIT)) > 0);
    check(`send(${what})`, libc().send(this.#fd, request, BigInt(request.length), 0));
    const got = check(
      `recv(${what})`,
      Number(libc().recv(this.#fd, buf, BigInt(buf.length), MSG_DONTWAIT)),
    );
    if (got < HEADER) throw new Error(`No answer from the kernel to ${what}`);
    const view = new DataView(buf.buffer, 0, got);
    const len = Math.min(Math.max(view.getUint32(0, true), HEADER), got);
    if (view.getUint16(4, true) === NLMSG_ERROR) {
      const error = -view.getInt32(HEADER, true);
      if (error === ENOENT) return undefined;
      throw new NetlinkError(what, error);
    }
    return buf.slice(HEADER, len);
  }

  /**
   * Sends a dump request and returns the body of each message of its answer (after the
   * netlink header). The kernel fills the first part inside `send` and each further part
   * inside the `recv` that asks for it.
   */
  dump(what: string, request: Uint8Array): Uint8Array[] {
    if (this.#closed) throw new Error(`Netlink socket closed: ${what}`);
    const buf = new Uint8Array(65536);
    while (Number(libc().recv(this.#fd, buf, BigInt(buf.length), MSG_DONTWAIT)) > 0);
    check(`send(${what})`, libc().send(this.#fd, request, BigInt(request.length), 0));
    const bodies: Uint8Array[] = [];
    // Bounded: each part holds at least one entry, and a lab's tables hold few.
    for (let part = 0; part < 10_000; part++) {
      const got = check(`recv(${what})`, Number(libc().recv(this.#fd, buf, BigInt(buf.length), 0)));
      const view = new DataView(buf.buffer, 0, got);
      for (let at = 0; at + HEADER <= got;) {
        const len = Math.max(view.getUint32(at, true), HEADER);
        const type = view.getUint16(at + 4, true);
        if (type === NLMSG_DONE) return bodies;
        if (type === NLMSG_ERROR) {
          const error = -view.getInt32(at + HEADER, true);
          if (error !== 0) throw new NetlinkError(what, error);
        } else bodies.push(buf.slice(at + HEADER, at + len));
        at += align4(len);
      }
    }
    throw new Error(`No end of the kernel's answer to ${what}`);
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc().close(this.#fd);
  }
}
