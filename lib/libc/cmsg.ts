/**
 * Reading the control messages recvmsg(2) returns (cmsg(3)), as laid out on 64-bit Linux:
 * each is `{ size_t cmsg_len; int cmsg_level; int cmsg_type; data }`, the next one starting at
 * the previous one's length rounded up to 8 bytes. Pure: it reads bytes, calls nothing.
 *
 * @module
 */

/** The size of `struct cmsghdr` before its data. */
const HEADER = 16;

/** One control message: its level, type and data. */
export interface ControlMessage {
  level: number;
  type: number;
  data: Uint8Array;
}

/**
 * The control messages in the first `length` bytes of `control` (recvmsg's `msg_controllen`).
 * A message whose length runs past `length` (the kernel truncated it: MSG_CTRUNC) ends the list.
 */
export function controlMessages(control: Uint8Array, length: number): ControlMessage[] {
  const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
  const end = Math.min(length, control.byteLength);
  const out: ControlMessage[] = [];
  let at = 0;
  while (at + HEADER <= end) {
    const size = Number(view.getBigUint64(at, true));
    if (size < HEADER || at + size > end) break;
    out.push({
      level: view.getInt32(at + 8, true),
      type: view.getInt32(at + 12, true),
      data: control.subarray(at + HEADER, at + size),
    });
    at += Math.ceil(size / 8) * 8;
  }
  return out;
}

/**
 * The time a `struct timespec` (two 64-bit fields: seconds, nanoseconds) holds, in ms, or
 * undefined when it is zero (the kernel's "no stamp") or too short.
 */
export function timespecMs(data: Uint8Array): number | undefined {
  if (data.byteLength < 16) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seconds = view.getBigInt64(0, true);
  const nanoseconds = view.getBigInt64(8, true);
  if (seconds === 0n && nanoseconds === 0n) return undefined;
  return Number(seconds) * 1000 + Number(nanoseconds) / 1e6;
}
