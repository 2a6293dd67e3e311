import assert from "node:assert/strict";
import type { Observations } from "../../observe/observations.ts";
import { survivesVerifier as v } from "./survives.ts";
import { died, facts, socketEvent } from "./testdata/facts.ts";

Deno.test("survives: an exchange after the outage decides", () => {
  const ok = facts((obs) => obs.exchanges.survived = { ok: true, at: 2000 });
  assert.equal(v.judge(v.build(), ok).met, true);
  const lost = facts((obs) => obs.exchanges.survived = { ok: false, error: "EOF", at: 2000 });
  assert.deepEqual(v.judge(v.build(), lost), {
    met: false,
    actual: "connection lost: EOF",
    found: { survived: false, error: "EOF" },
  });
});

/** Behind a 240 s NAT, the server's socket with these keepalive settings. */
function behindNat(keepalive: boolean, keepIdleS: number, keepIntvlS: number, keepCnt: number) {
  return (obs: Observations) => {
    obs.run.natTimeoutMs = 240_000;
    obs.connection.options = {
      keepalive,
      keepIdleS,
      keepIntvlS,
      keepCnt,
      userTimeoutMs: 0,
      rtoMaxMs: 120_000,
    };
  };
}

Deno.test("survives: what was observed wins over a prediction of survival", () => {
  const e = v.build({ for: "15m" });
  const natAndKeepalive = behindNat(true, 2, 1, 3);
  const up = facts((obs) => {
    natAndKeepalive(obs);
    obs.exchanges.survived = { ok: true, at: 2000 };
  });
  assert.deepEqual(v.judge(e, up).predicted, true);
  const closed = facts((obs) => {
    natAndKeepalive(obs);
    obs.exchanges.survived = { ok: true, at: 2000 };
    obs.connection.socket = [socketEvent(500, "held"), socketEvent(30_000, "orphaned")];
  });
  assert.deepEqual(v.judge(e, closed), {
    met: false,
    actual: "connection lost: the server released it",
    found: { survived: false },
  });
  const dead = facts((obs) => {
    natAndKeepalive(obs);
    died(5000, null)(obs);
  });
  assert.equal(v.judge(e, dead).met, false);
});

Deno.test("survives: a close the server made on its own makes the question moot", () => {
  const closed = facts((obs) => {
    obs.exchanges.survived = { ok: false, error: "EOF", at: 3500 };
    obs.connection.socket = [socketEvent(500, "held"), socketEvent(3300, "orphaned")];
  }, { unpromptedClose: { at: 3230, flag: "FIN", idleMs: 2730 } });
  const moot = v.judge(v.build(), closed);
  assert.equal(moot.met, "not-applicable");
  assert.equal(
    moot.actual,
    "not applicable: the server closed the idle connection itself (FIN 2.7 s after the last traffic) before anything could tell it of the fault",
  );
  assert.match(moot.why ?? "", /whether or not the client is there/);
  // The exchange after the outage succeeded after all: observed survival wins.
  const up = facts((obs) => obs.exchanges.survived = { ok: true, at: 3500 }, {
    unpromptedClose: { at: 3230, flag: "FIN", idleMs: 2730 },
  });
  assert.equal(v.judge(v.build(), up).met, true);
  // A dead server is still a lost connection.
  const dead = facts(died(3000), { unpromptedClose: { at: 3230, flag: "FIN", idleMs: 2730 } });
  assert.equal(v.judge(v.build(), dead).met, false);
});

/** Behind a 240 s NAT whose mapping was gone at the survival check. */
function natForgot(obs: Observations): void {
  obs.run.natTimeoutMs = 240_000;
  obs.exchanges.survived = {
    ok: false,
    error: "the NAT forgot the connection's mapping",
    natForgot: true,
    at: 900_000,
  };
}

Deno.test("survives: behind a NAT, a server that closed while the mapping lived: not applicable", () => {
  // nats-server: its PINGs went unanswered by the test client, and it closed after two, at
  // 242 s; the mapping, refreshed by the client's ACKs, still lived. Nothing but the NAT
  // happened to the client: the question was not asked.
  const closed = facts(natForgot, {
    closedWhileMapped: { at: 243_000, flag: "FIN", idleMs: 242_000 },
  });
  const moot = v.judge(v.build({ for: "15m" }), closed);
  assert.equal(moot.met, "not-applicable");
  assert.equal(
    moot.actual,
    "not applicable: the server closed the connection itself (FIN 4 min after the last traffic) while the NAT's mapping still lived",
  );
  // Without such a close, the NAT forgot it.
  assert.match(v.judge(v.build({ for: "15m" }), facts(natForgot)).actual, /the NAT forgot/);
});

Deno.test("survives: behind a NAT, a kernel that lets the mapping expire is no loss yet: inconclusive", () => {
  const e = v.build({ for: "15m" });
  const up = facts((obs) => {
    behindNat(false, 7200, 75, 9)(obs);
    obs.exchanges.survived = { ok: true, at: 2000 };
  }, { knobs: { "ping_interval / ping_max": "2m / 2: PINGs" } });
  const j = v.judge(e, up);
  assert.equal(j.met, "inconclusive");
  assert.equal(j.predicted, true);
  assert.match(j.actual, /the kernel alone lets the 4 min mapping expire \(keepalive is off\)/);
  assert.match(
    j.actual,
    /ping_interval \/ ping_max 2 min by its knobs\) may refresh it: a deadline of 15 min would tell$/,
  );
});
