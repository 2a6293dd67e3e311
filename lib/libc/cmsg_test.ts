import assert from "node:assert/strict";
import { controlMessages, timespecMs } from "./cmsg.ts";

/** One control message as the kernel writes it, padded to 8 bytes. */
function message(level: number, type: number, data: Uint8Array): Uint8Array {
  const size = 16 + data.length;
  const out = new Uint8Array(Math.ceil(size / 8) * 8);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(size), true);
  view.setInt32(8, level, true);
  view.setInt32(12, type, true);
  out.set(data, 16);
  return out;
}

function timespec(seconds: bigint, nanoseconds: bigint): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setBigInt64(0, seconds, true);
  view.setBigInt64(8, nanoseconds, true);
  return out;
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("controlMessages: walks messages at 8-byte alignment and stops at msg_controllen", () => {
  const odd = message(0, 7, new Uint8Array([1, 2, 3, 4, 5])); // 21 bytes, padded to 24
  const stamp = message(1, 35, timespec(1_700_000_000n, 250_000_000n));
  const control = join(odd, stamp, new Uint8Array(32));
  const all = controlMessages(control, odd.length + stamp.length);
  assert.deepEqual(all.map((m) => [m.level, m.type, m.data.length]), [[0, 7, 5], [1, 35, 16]]);
  assert.deepEqual([...all[0]!.data], [1, 2, 3, 4, 5]);
  // The kernel returned only the first one.
  assert.equal(controlMessages(control, odd.length).length, 1);
  assert.deepEqual(controlMessages(control, 0), []);
});

Deno.test("controlMessages: a message truncated by the kernel (MSG_CTRUNC) ends the list", () => {
  const stamp = message(1, 35, timespec(1n, 2n));
  assert.deepEqual(controlMessages(stamp, stamp.length - 4), []);
  // A corrupt length smaller than the header cannot loop forever.
  const bad = new Uint8Array(32);
  new DataView(bad.buffer).setBigUint64(0, 3n, true);
  assert.deepEqual(controlMessages(bad, bad.length), []);
});

Deno.test("timespecMs: seconds and nanoseconds in ms; zero means no stamp", () => {
  assert.equal(timespecMs(timespec(1_700_000_000n, 250_000_000n)), 1_700_000_000_250);
  assert.equal(timespecMs(timespec(2n, 1_500n)), 2000.0015);
  assert.equal(timespecMs(timespec(0n, 0n)), undefined);
  assert.equal(timespecMs(new Uint8Array(8)), undefined);
});
