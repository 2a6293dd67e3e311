/**
 * The lab's behaviour against the reference servers, end to end on the real kernel: each
 * scenario in its own lab, all at once. Tolerances are stated where a time is checked.
 */
import assert from "node:assert/strict";
import { HARDENED_SETTINGS } from "../../targets/ref_hardened.ts";
import hardened from "../../targets/ref_hardened.ts";
import naive from "../../targets/ref_naive.ts";
import type { ScenarioResult } from "../results/schema.ts";
import { defineSuite, type Scenario } from "../suite/define_suite.ts";
import { othersServed, released, serverAlive } from "../suite/expectations.ts";
import { abort, connect, exchange, fault, keepReading, requestLarge } from "../suite/steps.ts";
import { certifyTarget } from "./certify_target.ts";

const common = { title: "t", requirement: "r", level: "MUST" as const, refs: ["RFC 9293"] };

const scenarios: Scenario[] = defineSuite({
  id: "t",
  title: "lab acceptance",
  scenarios: [
    {
      ...common,
      id: "t/abort",
      phase: "idle",
      steps: [connect(), exchange(), abort()],
      expect: [released({ within: "2s" })],
    },
    {
      ...common,
      id: "t/vanish-idle",
      phase: "idle",
      steps: [connect(), exchange(), fault.vanish()],
      expect: [released({ within: "20s" })],
    },
    {
      ...common,
      id: "t/vanish-mid-response",
      phase: "mid-response",
      steps: [connect(), requestLarge(), keepReading(), fault.vanish()],
      expect: [released({ within: "20s" })],
    },
    {
      ...common,
      id: "t/reboot",
      phase: "idle",
      steps: [connect(), exchange(), fault.reboot()],
      expect: [released({ within: "20s" })],
    },
    {
      ...common,
      id: "t/nat-rst",
      phase: "idle",
      steps: [fault.nat("10m", "rst"), connect(), exchange(), fault.natExpire()],
      expect: [released({ within: "20s" })],
    },
    {
      ...common,
      id: "t/nat-drop",
      phase: "idle",
      steps: [fault.nat("10m", "drop"), connect(), exchange(), fault.natExpire()],
      expect: [released({ within: "20s" })],
    },
    {
      ...common,
      id: "t/abort-mid-response",
      phase: "mid-response",
      steps: [connect(), requestLarge(), keepReading(), abort()],
      expect: [serverAlive(), othersServed()],
    },
  ],
}).scenarios;

function byId(results: ScenarioResult[], id: string): ScenarioResult {
  const found = results.find((r) => r.id === id);
  assert(found, id);
  assert.notEqual(found.verdict, "error", `${id}: ${found.notes}`);
  assert.notEqual(found.verdict, "skip", `${id}: ${found.notes}`);
  return found;
}

Deno.test("ref-hardened: abort, vanish, reboot and NAT expiry end the connection the way the kernel says", async () => {
  const { scenarios: results, environment } = await certifyTarget(hardened, scenarios, {
    deadlineMs: 12_000,
    concurrency: 8,
  });
  // The runner's lateness is recorded: the run's peak, and per scenario what it measured with.
  assert(environment.peakLatenessMs !== undefined);
  for (const r of results) {
    const h = r.measurements.harness!;
    assert(h.attempts! >= 1 && h.latenessMs! <= environment.peakLatenessMs, r.id);
  }

  // RST reaches the server: its socket is gone at once. The figure is when the 15 ms poll saw
  // it, which a busy host delays (138 ms seen with 8 test files beside it at load 20): bounded
  // here only below ref-hardened's shortest timer (keepalive after 2 s idle), so the RST, not
  // a timer, released it; how soon is a figure for the report, not for this bound.
  const aborted = byId(results, "t/abort");
  assert.equal(aborted.measurements.releasedHow, "reset-by-peer");
  assert(
    aborted.measurements.releaseMs! < HARDENED_SETTINGS.keepIdleSeconds * 1000,
    `released after ${aborted.measurements.releaseMs} ms`,
  );
  console.log(`t/abort: released ${aborted.measurements.releaseMs} ms after the RST`);

  // Vanished idle: released at KEEPIDLE + KEEPCNT × KEEPINTVL after the last traffic, as read
  // through pidfd_getfd. Tolerance −50 ms (the last ACK follows the exchange by < 1 ms) to
  // +600 ms (timer slack of the keepalive timer, 15 ms sampling, a busy 2-core machine).
  const idle = byId(results, "t/vanish-idle");
  const o = idle.socketOptions!;
  assert.deepEqual(
    [o.keepalive, o.keepIdleS, o.keepIntvlS, o.keepCnt, o.userTimeoutMs],
    [
      true,
      HARDENED_SETTINGS.keepIdleSeconds,
      HARDENED_SETTINGS.keepIntvlSeconds,
      HARDENED_SETTINGS.keepCnt,
      HARDENED_SETTINGS.userTimeoutMs,
    ],
  );
  const expected = (o.keepIdleS + o.keepCnt * o.keepIntvlS) * 1000;
  const since = idle.measurements.releaseSinceLastTrafficMs!;
  assert(
    since >= expected - 50 && since <= expected + 600,
    `released ${since} ms after the last traffic, expected ${expected}`,
  );
  assert.equal(idle.measurements.releasedHow, "keepalive-timeout");
  assert.equal(idle.measurements.keepaliveProbes, o.keepCnt);

  // Vanished mid-response: data in flight, so the retransmission timer runs, not keepalive.
  const midResponse = byId(results, "t/vanish-mid-response");
  assert(
    midResponse.evidence.some((e) => e.atMs >= 0 && /^retransmit timer, [1-9]/.test(e.what)),
    "the socket table shows the retransmit timer with retransmissions after the fault",
  );
  assert.equal(midResponse.measurements.releasedHow, "retransmission-timeout");

  // Rebooted: the server's next packet (a keepalive probe) meets the client kernel's RST.
  const rebooted = byId(results, "t/reboot");
  assert.equal(rebooted.measurements.releasedHow, "reset-by-peer");
  assert(
    rebooted.evidence.some((e) =>
      e.actor === "client" && e.to === "server" && /RST/.test(e.what) && e.atMs > 0
    ),
  );

  // NAT expiry: the router answers the next stray with RST, or drops it and keepalive gives up.
  assert.equal(byId(results, "t/nat-rst").measurements.releasedHow, "reset-by-peer");
  assert.equal(byId(results, "t/nat-drop").measurements.releasedHow, "keepalive-timeout");

  // A write to a reset peer is an error for ref-hardened, not a death.
  const survived = byId(results, "t/abort-mid-response");
  assert.equal(survived.measurements.serverExit, undefined);
  assert.equal(survived.verdict, "pass");
});

Deno.test("ref-naive: dies of SIGPIPE on a write after a reset and never lets go of a vanished client", async () => {
  const picked = scenarios.filter((s) => ["t/abort-mid-response", "t/vanish-idle"].includes(s.id));
  const { scenarios: results } = await certifyTarget(naive, picked, {
    deadlineMs: 6_000,
    concurrency: 4,
  });
  const died = byId(results, "t/abort-mid-response");
  assert.equal(died.measurements.serverExit?.signal, "SIGPIPE");
  assert.equal(died.verdict, "fail");
  const idle = byId(results, "t/vanish-idle");
  assert.equal(idle.socketOptions?.keepalive, false);
  assert.equal(idle.measurements.releasedHow, "never");
  assert.equal(
    idle.prediction?.releaseMs,
    null,
    "no keepalive: the kernel alone never releases it",
  );
});
