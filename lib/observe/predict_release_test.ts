import assert from "node:assert/strict";
import { predictRelease, retransmissionModelMs } from "./predict_release.ts";
import type { SocketOptions, TcpSysctls } from "./socket_options.ts";

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
