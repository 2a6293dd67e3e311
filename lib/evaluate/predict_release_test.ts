import assert from "node:assert/strict";
import { predictRelease, retransmissionModelMs } from "./predict_release.ts";
import type { SocketOptions, TcpSysctls } from "../observe/socket_options.ts";

const LINUX_DEFAULTS: TcpSysctls = {
  keepaliveTimeS: 7200,
  keepaliveIntvlS: 75,
  keepaliveProbes: 9,
  retries2: 15,
  orphanRetries: 0,
};

/** What getsockopt reads on a socket that set nothing: the namespace defaults. */
const UNSET: SocketOptions = {
  keepalive: false,
  keepIdleS: 7200,
  keepIntvlS: 75,
  keepCnt: 9,
  userTimeoutMs: 0,
  rtoMaxMs: 120_000,
};

/** tcp_model_timeout() as the kernel writes it, to check the backoff sum against. */
function kernelModel(boundary: number, rtoMax: number): number {
  const thresh = Math.floor(Math.log2(rtoMax / 200));
  return boundary <= thresh
    ? (2 ** (boundary + 1) - 1) * 200
    : (2 ** (thresh + 1) - 1) * 200 + (boundary - thresh) * rtoMax;
}

Deno.test("retransmissionModelMs gives 924.6 s for tcp_retries2 15 and agrees with the kernel's closed form", () => {
  assert.equal(retransmissionModelMs(15, 120_000), 924_600);
  for (const rtoMax of [120_000, 60_000, 1_000, 200]) {
    for (let retries2 = 0; retries2 <= 20; retries2++) {
      assert.equal(retransmissionModelMs(retries2, rtoMax), kernelModel(retries2, rtoMax));
    }
  }
});

Deno.test("predictRelease: idle with keepalive off is never released", () => {
  const p = predictRelease(UNSET, LINUX_DEFAULTS, "idle");
  assert.equal(p.predicted, true);
  assert.equal(p.afterMs, "never");
  assert.equal(p.mechanism, "none");
});

Deno.test("predictRelease: idle with default keepalive takes 7200 + 9 × 75 s, ending with RST", () => {
  const p = predictRelease({ ...UNSET, keepalive: true }, LINUX_DEFAULTS, "idle");
  assert.equal(p.afterMs, 7_875_000);
  assert.equal(p.mechanism, "keepalive");
  assert.equal(p.sendsRst, true);
});

Deno.test("predictRelease: TCP_USER_TIMEOUT ends keepalive at the first timer firing past it", () => {
  const fixture = { keepalive: true, keepIdleS: 2, keepIntvlS: 1, keepCnt: 3, rtoMaxMs: 120_000 };
  // firings at 2 s (probe 1), 3 s (probe 2), 4 s: 4 s of silence >= 4000 ms, abort.
  assert.equal(
    predictRelease({ ...fixture, userTimeoutMs: 4000 }, LINUX_DEFAULTS, "idle").afterMs,
    4000,
  );
  // 4.5 s falls between firings: the abort waits for the 5 s firing.
  assert.equal(
    predictRelease({ ...fixture, userTimeoutMs: 4500 }, LINUX_DEFAULTS, "idle").afterMs,
    5000,
  );
  // Shorter than the idle time: at least one probe must have gone out (2 s), so 3 s.
  assert.equal(
    predictRelease({ ...fixture, userTimeoutMs: 500 }, LINUX_DEFAULTS, "idle").afterMs,
    3000,
  );
  // Longer than idle + cnt × intvl: TCP_KEEPCNT is ignored, probes go on.
  assert.equal(
    predictRelease({ ...fixture, userTimeoutMs: 9000 }, LINUX_DEFAULTS, "idle").afterMs,
    9000,
  );
  // Without it: idle + cnt × intvl.
  assert.equal(
    predictRelease({ ...fixture, userTimeoutMs: 0 }, LINUX_DEFAULTS, "idle").afterMs,
    5000,
  );
});

Deno.test("predictRelease: unacknowledged data follows TCP_USER_TIMEOUT, else tcp_retries2", () => {
  const model = predictRelease(UNSET, LINUX_DEFAULTS, "unacked-data");
  assert.equal(model.afterMs, 924_600);
  assert.equal(model.mechanism, "retransmission_timeout");
  assert.equal(model.sendsRst, false);
  assert.equal(
    predictRelease(UNSET, { ...LINUX_DEFAULTS, retries2: 8 }, "unacked-data").afterMs,
    102_200,
  );
  assert.equal(
    predictRelease({ ...UNSET, rtoMaxMs: 1000 }, LINUX_DEFAULTS, "unacked-data").afterMs,
    14_400,
  );
  // Keepalive does not probe while data is outstanding: it changes nothing here.
  const keep = { ...UNSET, keepalive: true, keepIdleS: 1, keepIntvlS: 1, keepCnt: 1 };
  assert.equal(predictRelease(keep, LINUX_DEFAULTS, "unacked-data").afterMs, 924_600);
  const user = predictRelease({ ...UNSET, userTimeoutMs: 30_000 }, LINUX_DEFAULTS, "unacked-data");
  assert.equal(user.afterMs, 30_000);
  assert.equal(user.mechanism, "user_timeout");
});

Deno.test("predictRelease: a zero-window stall ends only with TCP_USER_TIMEOUT", () => {
  const keep = { ...UNSET, keepalive: true };
  assert.equal(predictRelease(keep, LINUX_DEFAULTS, "zero-window").afterMs, "never");
  const user = predictRelease({ ...keep, userTimeoutMs: 10_000 }, LINUX_DEFAULTS, "zero-window");
  assert.equal(user.afterMs, 10_000);
  assert.equal(user.mechanism, "user_timeout");
  assert.equal(user.sendsRst, false);
});

// ---------------------------------------------------------------------------------------------
// predictFromObservations on event sequences

import {
  abortWindow,
  keepaliveAbortWindow,
  predictFromObservations,
  type PredictionInput,
  retries2AbortWindow,
  userTimeoutAbortWindow,
} from "./predict_release.ts";
import type { PacketEvent } from "../observe/capture.ts";
import type { SocketEvent } from "../observe/socket_watch.ts";
import { LINUX_HZ, timerWheel } from "../observe/timer_wheel.ts";

// The exact figures below are this project's kernel's: CONFIG_HZ=250, 4 ms ticks.
const HZ250 = timerWheel(250);

const ev = (at: number, extra: Partial<SocketEvent> = {}): SocketEvent => ({
  at,
  state: "ESTABLISHED",
  holding: "held",
  txQueue: 0,
  rxQueue: 0,
  timer: "keepalive",
  timerMs: 0,
  retransmits: 0,
  probes: 0,
  inode: 7,
  fd: 5,
  changed: ["timer"],
  ...extra,
});
const pkt = (
  at: number,
  direction: PacketEvent["direction"],
  extra: Partial<PacketEvent> = {},
): PacketEvent => ({
  at,
  direction,
  client: { address: "192.0.2.2", port: 40000 },
  flags: ["ACK"],
  seq: 100,
  ack: 200,
  window: 500,
  length: 0,
  kinds: [],
  ...extra,
});
const HARDENED = {
  keepalive: true,
  keepIdleS: 2,
  keepIntvlS: 1,
  keepCnt: 3,
  userTimeoutMs: 0,
  rtoMaxMs: 120_000,
};
const input = (extra: Partial<PredictionInput>): PredictionInput => ({
  options: HARDENED,
  sysctls: LINUX_DEFAULTS,
  kernelHz: 250,
  socket: [ev(0)],
  packets: [pkt(0, "server_to_client", { length: 5 }), pkt(1, "client_to_server")],
  faultAt: 10,
  lastTrafficAt: 1,
  watchedUntil: 1000,
  ...extra,
});

Deno.test("abortWindow: count rule adds each timer's lateness; time rule spans the firings that may and must qualify", () => {
  assert.deepEqual(abortWindow(2000, 36, () => 1000, { firing: 3 }, HZ250), {
    earliestMs: 5000,
    latestMs: 5144,
  });
  // Nominal firings at 2, 3, 4, 5 s; threshold 4.5 s: the 4 s firing may qualify if it is
  // 0.5 s late (it cannot: at most 108 ms), so only the 5 s firing.
  assert.deepEqual(abortWindow(2000, 36, () => 1000, { thresholdMs: 4500, minFiring: 1 }, HZ250), {
    earliestMs: 5000,
    latestMs: 5144,
  });
  // Threshold 4.05 s: the 4 s firing qualifies when 50 ms late or more.
  assert.deepEqual(abortWindow(2000, 36, () => 1000, { thresholdMs: 4050, minFiring: 1 }, HZ250), {
    earliestMs: 4050,
    latestMs: 5144,
  });
});

Deno.test("keepaliveAbortWindow continues from the probes already seen", () => {
  assert.deepEqual(keepaliveAbortWindow(HARDENED, [], HZ250), {
    earliestMs: 5000,
    latestMs: 5144,
  });
  assert.deepEqual(keepaliveAbortWindow(HARDENED, [2020, 3030], HZ250), {
    // Probes at firings 0 and 1, exactly; the abort at firing 3, two timers later.
    earliestMs: 5030,
    latestMs: 5030 + 2 * 36,
  });
  assert.deepEqual(keepaliveAbortWindow({ ...HARDENED, userTimeoutMs: 5000 }, [], HZ250), {
    earliestMs: 5000,
    latestMs: 5144,
  });
});

Deno.test("retries2AbortWindow: the first firing at or after 924.6 s from the first retransmission", () => {
  // RTO 200 ms: nominal firings at 0.4, 1.2, ... 924.4 s (short of the model by 0.2 s, but
  // any lateness over 0.2 s makes it qualify), then 1044.4 s.
  const w = retries2AbortWindow(15, 200, 120_000, [0], HZ250);
  assert.equal(w.earliestMs, 924_600);
  assert.equal(w.latestMs > 1_044_400 && w.latestMs < 1_044_400 + 40_000, true);
  // 944.6 s after the fault was measured on this kernel: inside the window.
  assert.ok(944_400 >= w.earliestMs && 944_400 <= w.latestMs);
});

Deno.test("predictFromObservations: idle, keepalive off: never", () => {
  const o = predictFromObservations(input({ options: { ...HARDENED, keepalive: false } }));
  assert.equal(o.kind, "never");
});

Deno.test("predictFromObservations: idle, nothing sent since the fault and no hint: unknown", () => {
  const o = predictFromObservations(input({}));
  assert.equal(o.kind, "unknown");
});

Deno.test("predictFromObservations: idle, silent peer: keepalive counted from the last segment heard", () => {
  const o = predictFromObservations(input({ peerExpected: "silent" }));
  assert.equal(o.kind, "release");
  if (o.kind !== "release") return;
  assert.equal(o.fromAt, 1);
  assert.equal(o.at, 5001);
  assert.equal(o.how, "keepalive-timeout");
  assert.equal(o.sendsRst, true);
  assert.deepEqual(o.toleranceMs, { early: 10, late: 244 });
});

Deno.test("predictFromObservations: probes answered: never; observed beats the fault's hint", () => {
  const packets = [
    pkt(1, "client_to_server"),
    pkt(2001, "server_to_client", { seq: 99, kinds: ["keepalive_probe"] }),
    pkt(2002, "client_to_server"),
  ];
  const o = predictFromObservations(
    input({ packets, peerExpected: "silent", watchedUntil: 2500 }),
  );
  assert.equal(o.kind, "never");
});

Deno.test("predictFromObservations: a peer that resets: release at the first probe, KEEPIDLE after the last traffic", () => {
  const o = predictFromObservations(input({ peerExpected: "resets" }));
  assert.equal(o.kind, "release");
  if (o.kind !== "release") return;
  assert.equal(o.at, 2001);
  assert.equal(o.how, "reset-by-peer");
});

Deno.test("predictFromObservations: never earlier than watched; a model already overdue does not apply", () => {
  const late = predictFromObservations(input({ peerExpected: "silent", watchedUntil: 5100 }));
  assert.equal(late.kind, "release");
  if (late.kind === "release") assert.equal(late.at, 5100);
  const overdue = predictFromObservations(input({ peerExpected: "silent", watchedUntil: 9000 }));
  assert.equal(overdue.kind, "unknown");
});

Deno.test("predictFromObservations: unacknowledged data counts from the first retransmission (TCP_USER_TIMEOUT)", () => {
  // The server writes 3 s after the fault; the peer is gone.
  const packets = [
    pkt(1, "client_to_server", { ack: 100 }),
    pkt(3000, "server_to_client", { seq: 100, length: 10 }),
    pkt(3205, "server_to_client", { seq: 100, length: 10, kinds: ["retransmission"] }),
    pkt(3615, "server_to_client", { seq: 100, length: 10, kinds: ["retransmission"] }),
  ];
  const socket = [
    ev(0),
    ev(3001, { timer: "retransmit", txQueue: 10, timerMs: 204 }),
    ev(3210, { timer: "retransmit", txQueue: 10, retransmits: 1, timerMs: 400 }),
    ev(3620, { timer: "retransmit", txQueue: 10, retransmits: 2, timerMs: 800 }),
  ];
  const o = predictFromObservations(
    input({ packets, socket, options: { ...HARDENED, userTimeoutMs: 5000 }, watchedUntil: 4700 }),
  );
  assert.equal(o.kind, "release");
  if (o.kind !== "release") return;
  assert.equal(o.from, "first-retransmission");
  assert.equal(o.fromAt, 3205);
  assert.equal(o.at, 8205);
  assert.equal(o.how, "retransmission-timeout");
  assert.equal(o.sendsRst, false);
});

Deno.test("predictFromObservations: zero window with TCP_USER_TIMEOUT counts from the first window probe", () => {
  const packets = [
    pkt(1, "client_to_server", { window: 0 }),
    pkt(300, "server_to_client", { seq: 99, kinds: ["zero_window_probe"] }),
    pkt(301, "client_to_server", { window: 0 }),
  ];
  const socket = [ev(0, { timer: "zero_window_probe", txQueue: 4000, timerMs: 290 })];
  const o = predictFromObservations(
    input({ packets, socket, options: { ...HARDENED, userTimeoutMs: 5000 } }),
  );
  assert.equal(o.kind, "release");
  if (o.kind !== "release") return;
  assert.equal(o.fromAt, 300);
  assert.equal(o.at, 5300);
  assert.equal(o.how, "zero-window-timeout");
  // Without it, a peer answering probes is kept forever.
  assert.equal(predictFromObservations(input({ packets, socket })).kind, "never");
});

Deno.test("predictFromObservations: a socket the kernel ended while its fd is held is never released by the kernel", () => {
  const socket = [ev(0), ev(50, { state: "CLOSE", holding: "closed_fd_held", timer: "none" })];
  assert.equal(predictFromObservations(input({ socket })).kind, "never");
});

Deno.test("userTimeoutAbortWindow: the clamped timer fires at the user timeout, one timer late at most", () => {
  // 5 s: level 2 of the wheel (256 ms) plus a tick.
  assert.deepEqual(userTimeoutAbortWindow(5000, 120_000, HZ250), {
    earliestMs: 5000,
    latestMs: 5260,
  });
  // Longer than the RTO ceiling: the last timer is at most an RTO_MAX away (level 3, 2048 ms).
  assert.deepEqual(userTimeoutAbortWindow(600_000, 120_000, HZ250), {
    earliestMs: 600_000,
    latestMs: 602_052,
  });
});

// ---------------------------------------------------------------------------------------------
// The kernel's CONFIG_HZ

// A 75 s keepalive (KEEPIDLE 75 s, one probe after 75 s): two timers on the wheel's level of
// 75 s, 2048 ms granularity at HZ 250, 4096 ms at HZ 1000, 5120 ms at HZ 100.
const KEEPALIVE_75S = { ...HARDENED, keepIdleS: 75, keepIntvlS: 75, keepCnt: 1 };

Deno.test("keepaliveAbortWindow: a 75 s keepalive is up to twice 2052 ms late at HZ 250, 4097 ms at HZ 1000", () => {
  assert.deepEqual(keepaliveAbortWindow(KEEPALIVE_75S, [], timerWheel(250)), {
    earliestMs: 150_000,
    latestMs: 150_000 + 2 * 2052,
  });
  assert.deepEqual(keepaliveAbortWindow(KEEPALIVE_75S, [], timerWheel(1000)), {
    earliestMs: 150_000,
    latestMs: 150_000 + 2 * 4097,
  });
  // HZ unknown (the default): the coarsest, HZ 100's 5120 ms granularity at 75 s.
  assert.deepEqual(keepaliveAbortWindow(KEEPALIVE_75S), {
    earliestMs: 150_000,
    latestMs: 150_000 + 2 * 5130,
  });
});

Deno.test("predictFromObservations: the late tolerance follows the recorded HZ; unknown HZ gives the widest", () => {
  const late = (kernelHz: number | undefined) => {
    const o = predictFromObservations(
      input({ options: KEEPALIVE_75S, peerExpected: "silent", kernelHz }),
    );
    assert.equal(o.kind, "release");
    if (o.kind !== "release") throw new Error("No release");
    assert.equal(o.at, 150_001);
    return o.toleranceMs;
  };
  // The window's latest moment less the prediction, plus 100 ms to see the release.
  assert.deepEqual(late(250), { early: 10, late: 2 * 2052 + 100 });
  assert.deepEqual(late(1000), { early: 10, late: 2 * 4097 + 100 });
  assert.ok(late(1000).late > late(250).late);
  const unknown = late(undefined);
  assert.deepEqual(unknown, { early: 16, late: 2 * 5130 + 100 });
  for (const hz of LINUX_HZ) {
    assert.ok(unknown.late >= late(hz).late, `HZ ${hz}`);
    assert.ok(unknown.early >= late(hz).early, `HZ ${hz}`);
  }
});

Deno.test("predictFromObservations: with HZ unknown, every RTO some HZ fits the retransmissions to is covered", () => {
  // Retransmissions 208 ms, then 416 ms apart: 52 ticks at HZ 250; at HZ 1000 from 208 ms.
  const packets = [
    pkt(1, "client_to_server", { ack: 100 }),
    pkt(3000, "server_to_client", { seq: 100, length: 10 }),
    pkt(3208, "server_to_client", { seq: 100, length: 10, kinds: ["retransmission"] }),
    pkt(3624, "server_to_client", { seq: 100, length: 10, kinds: ["retransmission"] }),
    pkt(4456, "server_to_client", { seq: 100, length: 10, kinds: ["retransmission"] }),
  ];
  const socket = [
    ev(0),
    ev(3001, { timer: "retransmit", txQueue: 10, timerMs: 208 }),
    ev(3210, { timer: "retransmit", txQueue: 10, retransmits: 1, timerMs: 416 }),
    ev(4460, { timer: "retransmit", txQueue: 10, retransmits: 3, timerMs: 1664 }),
  ];
  const at = (kernelHz: number | undefined) => {
    const o = predictFromObservations(
      input({ packets, socket, peerExpected: "silent", watchedUntil: 6000, kernelHz }),
    );
    assert.equal(o.kind, "release", `HZ ${kernelHz}`);
    if (o.kind !== "release") throw new Error("No release");
    assert.equal(o.how, "retransmission-timeout");
    return [o.at - o.toleranceMs.early, o.at + o.toleranceMs.late] as const;
  };
  const unknown = at(undefined);
  for (const hz of [250, 1000]) {
    const [early, late] = at(hz);
    assert.ok(unknown[0] <= early && unknown[1] >= late, `HZ ${hz}: ${early}..${late}`);
  }
});
