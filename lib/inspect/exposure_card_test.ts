import assert from "node:assert/strict";
import { retries2AbortWindow } from "../evaluate/predict_release.ts";
import { timerWheel } from "../observe/timer_wheel.ts";
import { deadLooking, exposures, optionGroups } from "./exposure_card.ts";
import type { InspectedSocket } from "./inspection_schema.ts";

const SYSCTLS = {
  keepaliveTimeS: 7200,
  keepaliveIntvlS: 75,
  keepaliveProbes: 9,
  retries2: 15,
  orphanRetries: 0,
};
const OFF = {
  keepalive: false,
  keepIdleS: 7200,
  keepIntvlS: 75,
  keepCnt: 9,
  userTimeoutMs: 0,
  rtoMaxMs: 120_000,
};
const WHEEL = timerWheel(250);

/** A connected socket as read, with `info` and `options` over an idle ESTABLISHED one. */
function socket(
  info: Partial<InspectedSocket["tcpInfo"]> = {},
  options: Partial<typeof OFF> = {},
  rest: Partial<InspectedSocket> = {},
): InspectedSocket {
  return {
    pid: 10,
    fd: 5,
    inode: 99,
    state: "ESTABLISHED",
    local: { address: "198.51.100.2", port: 80 },
    remote: { address: "192.0.2.2", port: 40000 },
    timer: "none",
    txQueue: 0,
    rxQueue: 0,
    settings: {
      timeouts: { ...OFF, ...options },
      linger: { on: false, seconds: 0 },
      sndbufBytes: 16384,
      rcvbufBytes: 131072,
      nodelay: false,
    },
    tcpInfo: {
      retransmits: 0,
      probes: 0,
      backoff: 0,
      rtoMs: 204,
      unacked: 0,
      lastDataSentMs: 1000,
      lastDataRecvMs: 1000,
      lastAckRecvMs: 1000,
      rttMs: 0.1,
      totalRetrans: 0,
      ...info,
    },
    ...rest,
  };
}

Deno.test("exposures: Linux's defaults with SO_KEEPALIVE, and TCP_USER_TIMEOUT deciding all three", () => {
  const defaults = exposures({ ...OFF, keepalive: true }, SYSCTLS, 200, WHEEL);
  assert.equal(defaults[0]?.release?.afterMs, 7_875_000);
  assert.equal(
    defaults[0]?.decidedBy,
    "TCP_KEEPIDLE 7200 s (default), TCP_KEEPINTVL 75 s (default), TCP_KEEPCNT 9 (default)",
  );
  assert.equal(defaults[1]?.release?.from, "first-retransmission");
  assert.equal(
    defaults[1]?.release?.afterMs,
    retries2AbortWindow(15, 200, 120_000, [0], WHEEL).earliestMs,
  );
  assert.equal(defaults[2]?.release, null);
  const user = exposures({ ...OFF, userTimeoutMs: 10_000 }, SYSCTLS, 200, WHEEL);
  assert.deepEqual(user.map((e) => [e.case, e.release?.afterMs ?? "never", e.mechanism]), [
    ["vanish-idle", "never", "none"],
    ["vanish-mid-response", 10_000, "user_timeout"],
    ["stops-reading", 10_000, "user_timeout"],
  ]);
});

Deno.test("optionGroups: accepted and outbound sockets apart, largest group first; the listener alone without connections", () => {
  const listener = socket({}, {}, { state: "LISTEN", local: { address: "0.0.0.0", port: 80 } });
  const on = { keepalive: true, keepIdleS: 60, keepIntvlS: 10, keepCnt: 5 };
  const groups = optionGroups(
    [listener],
    [
      socket({}, on),
      socket({}, {}),
      socket({}, {}),
      socket({}, {}, { local: { address: "198.51.100.2", port: 41000 } }),
    ],
    SYSCTLS,
    WHEEL,
  );
  assert.deepEqual(groups.map((g) => [g.source, g.count, g.options.keepalive]), [
    ["accepted", 2, false],
    ["accepted", 1, true],
    ["outbound", 1, false],
  ]);
  assert.deepEqual(
    optionGroups([listener], [], SYSCTLS, WHEEL).map((g) => [g.source, g.count]),
    [["listener", 0]],
  );
});

Deno.test("deadLooking: a retransmitting connection released where the tcp_retries2 model puts it, exact on Linux 6.7+ and reconstructed before", () => {
  // Four retransmissions from RTO 204 ms: at 0, 408, 1224, 2856 ms; the last 300 ms ago.
  const info = { retransmits: 4, backoff: 4, rtoMs: 204 * 16, unacked: 10, lastDataSentMs: 300 };
  const exact = deadLooking(
    [socket({ ...info, totalRtoRecoveries: 1, totalRtoTimeMs: 3156 }, {}, { timer: "retransmit" })],
    SYSCTLS,
    WHEEL,
  );
  const [group] = exact;
  assert.equal(group?.kind, "retransmitting");
  const c = group!.connections[0]!;
  const window = retries2AbortWindow(15, 204, 120_000, [0, 408, 1224, 2856], WHEEL);
  assert.equal(c.releaseInMs, window.earliestMs - 3156);
  assert.equal(c.mechanism, "retransmission_timeout");
  assert.match(c.evidence, /^backoff 4, 4 retransmission\(s\) unanswered, the first 3.2 s ago,/);

  const reconstructed = deadLooking([socket(info)], SYSCTLS, WHEEL)[0]!.connections[0]!;
  assert.equal(reconstructed.releaseInMs, c.releaseInMs);
  assert.ok(reconstructed.toleranceMs!.early > c.toleranceMs!.early, "wider: timers were late");
  assert.match(reconstructed.evidence, /\(reconstructed\)/);
});

Deno.test("deadLooking: keepalive probes unanswered, a zero window, CLOSE_WAIT, a half-open candidate; a quiet connection is none", () => {
  const keepalive = { keepalive: true, keepIdleS: 60, keepIntvlS: 10, keepCnt: 5 };
  const groups = deadLooking(
    [
      // Two probes unanswered (at 60 and 70 s), nothing heard for 75 s: abort at 110 s.
      socket({ probes: 2, lastDataRecvMs: 75_000, lastAckRecvMs: 75_000 }, keepalive),
      socket({ sndWnd: 0, notsentBytes: 4096, lastDataSentMs: 5000 }, {}, {
        timer: "zero_window_probe",
      }),
      socket({}, {}, { state: "CLOSE_WAIT" }),
      socket({ lastDataRecvMs: 8_000_000, lastAckRecvMs: 8_000_000 }),
      socket({ lastDataRecvMs: 60_000, lastAckRecvMs: 60_000 }),
    ],
    SYSCTLS,
    WHEEL,
  );
  assert.deepEqual(groups.map((g) => [g.kind, g.count]), [
    ["zero-window", 1],
    ["keepalive-probing", 1],
    ["half-open-candidate", 1],
    ["close-wait", 1],
  ]);
  const by = Object.fromEntries(groups.map((g) => [g.kind, g.connections[0]!]));
  assert.equal(by["keepalive-probing"]?.releaseInMs, 35_000);
  assert.equal(by["zero-window"]?.mechanism, "none");
  assert.match(by["zero-window"]!.evidence, /its kernel answers the window probes/);
  assert.match(by["half-open-candidate"]!.evidence, /^idle for 2 h 13 min, keepalive off/);
});
