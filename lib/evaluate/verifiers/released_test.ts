import assert from "node:assert/strict";
import { releasedVerifier as v } from "./released.ts";
import { died, facts, socketEvent } from "./testdata/facts.ts";

const e = v.build({ within: "10s" });

Deno.test("released: a measured release is judged against the budget", () => {
  assert.deepEqual(v.judge(e, facts(() => {}, { measurements: { releaseMs: 900 } })), {
    met: true,
    actual: "after 900 ms",
    found: { ms: 900 },
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

const keepalivePrediction = (at: number) => ({
  kind: "release" as const,
  at,
  from: "last-traffic" as const,
  fromAt: 900,
  toleranceMs: { early: 10, late: 100 },
  mechanism: "keepalive" as const,
  how: "keepalive-timeout" as const,
  sendsRst: true,
  situation: "idle, peer silent",
  reason: "keepalive",
});

Deno.test("released: the deadline first: a kernel release within the budget passes, labelled", () => {
  const short = facts(() => {}, { watchedMs: 3000 });
  assert.equal(v.judge(e, short).met, "inconclusive");
  const predicted = v.judge(e, { ...short, prediction: keepalivePrediction(6000) });
  assert.equal(predicted.met, true);
  assert.equal(predicted.predicted, true);
  assert.match(predicted.actual, /^predicted: the kernel alone releases it 5 s after the fault/);
  // Its late tolerance reaches past the budget: not proven.
  assert.equal(
    v.judge(e, { ...short, prediction: keepalivePrediction(10_950) }).met,
    "inconclusive",
  );
});

Deno.test("released: a kernel release after the budget is an upper bound: inconclusive, naming the server's own timeouts", () => {
  const short = facts(() => {}, {
    watchedMs: 3000,
    knobs: { send_timeout: "60s (no write progress)", so_keepalive: "off", timeout: "2h" },
  });
  const late = v.judge(v.build({ within: "11m" }), {
    ...short,
    prediction: keepalivePrediction(925_000),
  });
  assert.equal(late.met, "inconclusive");
  assert.equal(late.predicted, true);
  assert.match(late.actual, /the kernel alone releases it 15.4 min after the fault/);
  assert.match(
    late.actual,
    /\(send_timeout 60 s by its knobs\) may act sooner: a deadline of 11 min would tell$/,
  );
  const never = v.judge(e, {
    ...short,
    prediction: {
      kind: "never",
      situation: "idle",
      reason: "keepalive off",
      because: "keepalive off",
    },
  });
  assert.equal(never.met, "inconclusive");
  assert.match(never.actual, /send_timeout 60 s, timeout 2 h 0 min by its knobs/);
});

Deno.test("released: settled once the watch shows no fd referring to the socket", () => {
  const live = (socket: ReturnType<typeof socketEvent>[]) => ({
    faultAt: 0,
    socket,
    clientConnections: { now: 1, atFault: 1 },
    memory: undefined,
  });
  assert.equal(
    v.settled(e, live([socketEvent(1, "held"), socketEvent(2, "closed_fd_held")])),
    false,
  );
  assert.equal(v.settled(e, live([socketEvent(1, "held"), socketEvent(2, "orphaned")])), true);
});
