import assert from "node:assert/strict";
import { releasedVerifier as v } from "./released.ts";
import { died, facts, socketEvent } from "./testdata/facts.ts";

const e = v.build({ within: "10s" });

Deno.test("released: a measured release is judged against the budget", () => {
  assert.deepEqual(v.judge(e, facts(() => {}, { measurements: { releaseMs: 900 } })), {
    met: true,
    actual: "after 900 ms",
  });
  assert.equal(v.judge(e, facts(() => {}, { measurements: { releaseMs: 10_001 } })).met, false);
});

Deno.test("released: a leak is broken, named with its fd", () => {
  const j = v.judge(
    e,
    facts(() => {}, { measurements: { leak: { kernelEndedMs: 20, how: "reset-by-peer", fd: 7 } } }),
  );
  assert.equal(j.met, false);
  assert.match(
    j.actual,
    /kernel ended the socket after 20 ms \(reset-by-peer\) but the server still holds fd 7/,
  );
});

Deno.test("released: a server that died before releasing did not release", () => {
  const j = v.judge(
    e,
    facts((obs) => {
      died(1100)(obs);
      obs.connection.socket = [socketEvent(500, "held"), socketEvent(1120, "freed")];
    }),
  );
  assert.equal(j.met, false);
  assert.match(j.actual, /server killed by SIGPIPE, 100 ms after the fault/);
});

Deno.test("released: the deadline first: a kernel prediction decides, labelled; none is inconclusive", () => {
  const short = facts(() => {}, { watchedMs: 3000 });
  assert.equal(v.judge(e, short).met, "inconclusive");
  const predicted = v.judge(e, {
    ...short,
    prediction: {
      kind: "release",
      at: 6000,
      from: "last-traffic",
      fromAt: 900,
      toleranceMs: { early: 10, late: 100 },
      mechanism: "keepalive",
      how: "keepalive-timeout",
      sendsRst: true,
      situation: "idle, peer silent",
      reason: "keepalive",
    },
  });
  assert.equal(predicted.met, true);
  assert.equal(predicted.predicted, true);
  assert.match(predicted.actual, /^predicted: the kernel releases it 5 s after the fault/);
  const never = v.judge(e, {
    ...short,
    prediction: { kind: "never", situation: "idle", reason: "keepalive off" },
  });
  assert.equal(never.met, "inconclusive");
});

Deno.test("released: settled once the watch shows no fd referring to the socket", () => {
  const live = (socket: ReturnType<typeof socketEvent>[]) => ({
    faultAt: 0,
    socket,
    clientConnections: { now: 1, atFault: 1 },
  });
  assert.equal(
    v.settled(e, live([socketEvent(1, "held"), socketEvent(2, "closed_fd_held")])),
    false,
  );
  assert.equal(v.settled(e, live([socketEvent(1, "held"), socketEvent(2, "orphaned")])), true);
});
