/**
 * Evaluation on observations recorded from real runs (testdata/observations, made by
 * testdata/record_observations.ts against the reference servers): verdicts, figures,
 * mechanism labels and predictions, without root or a lab.
 */
import assert from "node:assert/strict";
import { loadSuites, selectScenarios } from "../cli/load_suites.ts";
import type { Observations } from "../observe/observations.ts";
import type { ScenarioResult } from "../results/schema.ts";
import { readFixture } from "../../testdata/record_observations.ts";
import { evaluate } from "./evaluate.ts";

const suites = await loadSuites();

function judge(target: string, id: string, change?: (obs: Observations) => void): ScenarioResult {
  const fixture = readFixture(target, id);
  const [scenario] = selectScenarios(suites, id);
  assert.ok(scenario);
  const obs = structuredClone(fixture.observations);
  change?.(obs);
  return evaluate(scenario, obs, 0);
}

const verdicts = (r: ScenarioResult) => r.expectations.map((e) => e.verdict);

Deno.test("an RST from the client: released within milliseconds, by the peer's RST", () => {
  const r = judge("ref-hardened", "rst/idle");
  assert.equal(r.verdict, "pass");
  assert.equal(r.measurements.releasedHow, "reset-by-peer");
  assert.ok(r.measurements.releaseMs! < 100, `${r.measurements.releaseMs}`);
});

Deno.test("the kernel ended the socket but the server holds its fd: a leak, not a release", () => {
  // The same run, had the server never closed its fd after the RST: the socket watch shows
  // the kernel's CLOSE under the held fd to the end.
  const r = judge("ref-hardened", "rst/idle", (obs) => {
    const ended = obs.connection.socket.findIndex((e) => e.holding === "closed_fd_held");
    assert.ok(ended > 0, "the recorded run shows the kernel's CLOSE before the server's close");
    obs.connection.socket = obs.connection.socket.slice(0, ended + 1);
  });
  assert.equal(r.verdict, "fail");
  assert.equal(r.expectations[0]?.verdict, "fail");
  assert.match(r.expectations[0]?.measured ?? "", /still holds fd \d+ \(a leak\)/);
  assert.equal(r.measurements.releaseMs, undefined);
  assert.equal(r.measurements.leak?.how, "reset-by-peer");
  assert.ok(r.measurements.leak.fd !== null);
});

Deno.test("a server killed by SIGPIPE released nothing and served no one", () => {
  const r = judge("ref-naive", "rst/mid-response");
  assert.deepEqual(verdicts(r), ["fail", "fail", "fail"]);
  assert.match(r.expectations[0]?.measured ?? "", /not released: server killed by SIGPIPE/);
  assert.match(r.expectations[2]?.measured ?? "", /not served: server killed by SIGPIPE/);
  assert.equal(r.measurements.releaseMs, undefined);
  assert.deepEqual(r.measurements.serverExit, { code: 141, signal: "SIGPIPE", atMs: 6 });
  // Its own words are evidence: the write that met the reset.
  assert.match(r.server?.log ?? "", /op=write errno=ECONNRESET/);
});

Deno.test("idle and silent peer, deadline first: keepalive predicted from the last traffic", () => {
  const r = judge("ref-hardened", "vanish/idle");
  assert.equal(r.expectations[0]?.verdict, "pass");
  assert.equal(r.expectations[0]?.predicted, true);
  const p = r.prediction!;
  assert.equal(p.from, "last-traffic");
  assert.ok(p.atMs! >= p.watchedMs!, `predicted ${p.atMs} ms, watched ${p.watchedMs} ms`);
  // KEEPIDLE 2 s + probes every 1 s with TCP_USER_TIMEOUT 5 s: the fifth second after the
  // last traffic, within the stated tolerance.
  assert.equal(p.releaseMs, 5009);
  assert.equal(r.measurements.releasedHow, undefined);
});

Deno.test("the prediction's tolerance follows the kernel's recorded CONFIG_HZ; unknown: the coarsest", () => {
  const tolerance = (hz: number | undefined) =>
    judge("ref-hardened", "vanish/idle", (obs) => {
      if (hz === undefined) delete obs.connection.kernelHz;
      else obs.connection.kernelHz = hz;
    }).prediction!.toleranceMs!;
  const [hz250, hz1000, unknown] = [tolerance(250), tolerance(1000), tolerance(undefined)];
  // Its 2 s and 1 s keepalive timers: one wheel level coarser in ticks at HZ 1000 (64 ms vs
  // 32 ms granularity), and 80 ms plus a 10 ms tick at HZ 100, the coarsest of them.
  assert.ok(hz1000.late > hz250.late, `${hz1000.late} vs ${hz250.late} ms`);
  assert.ok(unknown.late > hz1000.late, `${unknown.late} vs ${hz1000.late} ms`);
  assert.ok(unknown.early >= hz250.early);
});

Deno.test("a peer whose kernel answers keepalive probes: no release predicted, inconclusive", () => {
  const r = judge("ref-hardened", "freeze/sigstop-idle");
  assert.equal(r.expectations[0]?.verdict, "inconclusive");
  assert.equal(r.prediction?.releaseMs, null);
  assert.match(r.prediction?.situation ?? "", /peer answers keepalive probes/);
  assert.ok(r.measurements.keepaliveProbes! >= 1);
});

Deno.test("a rebooted peer answers the first probe with RST: released then, not after KEEPCNT", () => {
  const r = judge("ref-hardened", "reboot/idle");
  assert.equal(r.verdict, "pass");
  assert.equal(r.measurements.releasedHow, "reset-by-peer");
  // KEEPIDLE is 2 s: the first probe goes out 2 s after the last traffic.
  const ms = r.measurements.releaseSinceLastTrafficMs!;
  assert.ok(ms >= 1990 && ms <= 2300, `${ms} ms`);
  assert.equal(r.measurements.keepaliveProbes, 1);
});

Deno.test("data in flight to a silent peer: TCP_USER_TIMEOUT counted from the first retransmission", () => {
  const r = judge("ref-hardened", "vanish/mid-response");
  const p = r.prediction!;
  assert.equal(p.from, "first-retransmission");
  assert.equal(p.releaseMs, 5000);
  assert.ok(p.atMs! > 5000 && p.atMs! >= p.watchedMs!, `${p.atMs}`);
  assert.equal(r.expectations[0]?.predicted, true);
});

Deno.test("a 30 s outage runs in full under a 3 s deadline, and the keepalive kill is observed", () => {
  const fixture = readFixture("ref-hardened", "blip/idle-30s");
  assert.equal(fixture.deadlineMs, 3000);
  const obs = fixture.observations;
  const heal = obs.steps.find((s) => s.action === "heal")!;
  assert.ok(heal.t - obs.run.faultAt! >= 30_000, "the outage was cut short");
  const r = judge("ref-hardened", "blip/idle-30s");
  assert.equal(r.expectations[0]?.verdict, "info"); // a MAY, broken
  assert.match(r.expectations[0]?.measured ?? "", /connection lost: ECONNRESET/);
  assert.equal(r.measurements.releasedHow, "keepalive-timeout");
});

Deno.test("survival behind a NAT: predicted only while what was observed agrees", () => {
  const r = judge("ref-hardened", "nat/keepalive-4m");
  assert.equal(r.expectations[0]?.predicted, true);
  assert.match(r.expectations[0]?.measured ?? "", /keepalive after 2 s idle refreshes/);
  const lost = judge("ref-hardened", "nat/keepalive-4m", (obs) => {
    obs.exchanges.survived = { ok: false, error: "EOF", at: obs.run.endAt };
  });
  assert.equal(lost.expectations[0]?.predicted, undefined);
  assert.match(lost.expectations[0]?.measured ?? "", /connection lost: EOF/);
});

Deno.test("no keepalive, idle, deadline first: the kernel never releases it, inconclusive", () => {
  const r = judge("ref-naive", "vanish/idle");
  assert.equal(r.expectations[0]?.verdict, "inconclusive");
  assert.match(r.expectations[0]?.measured ?? "", /a deadline of 11 min would tell/);
  assert.equal(r.measurements.releasedHow, "never");
});

Deno.test("the server's FIN after the client's: released by its close", () => {
  const r = judge("ref-naive", "fin/idle");
  assert.equal(r.verdict, "pass");
  assert.equal(r.measurements.releasedHow, "server-fin");
});

Deno.test("an interrupted scenario says nothing about the server", () => {
  const r = judge("ref-naive", "rst/mid-response", (obs) => {
    obs.run.outcome = { kind: "interrupted", reason: "SIGINT" };
  });
  assert.equal(r.verdict, "interrupted");
  assert.deepEqual(verdicts(r), ["interrupted", "interrupted", "interrupted"]);
  assert.equal(r.notes, "Interrupted: SIGINT");
});

/** The same run, as a shorter deadline would have left it: everything after `ms` cut off. */
function watchedFor(ms: number): (obs: Observations) => void {
  return (obs) => {
    const until = obs.run.faultAt! + ms;
    obs.connection.socket = obs.connection.socket.filter((e) => e.at <= until);
    if (obs.capture.packets) obs.capture.packets = obs.capture.packets.filter((p) => p.at <= until);
    if (obs.bystander) obs.bystander = obs.bystander.filter((l) => l.endedAt <= until);
    obs.run.endAt = until;
  };
}

Deno.test("a server that never closes after an RST leaks: the kernel's CLOSE is named, not a release", () => {
  const r = judge("odd@leak", "rst/idle");
  assert.equal(r.verdict, "fail");
  assert.equal(r.measurements.leak?.how, "reset-by-peer");
  assert.ok(r.measurements.leak.kernelEndedMs < 100);
  assert.match(r.expectations[0]?.measured ?? "", /a leak/);
});

Deno.test("a keepalive abort under a held fd is a leak too (vanish/idle is a SHOULD: warn)", () => {
  const r = judge("odd@leak", "vanish/idle");
  assert.equal(r.expectations[0]?.verdict, "warn");
  assert.equal(r.measurements.leak?.how, "keepalive-timeout");
  // KEEPIDLE 2 s + 3 probes × 1 s after the last traffic.
  assert.ok(Math.abs(r.measurements.leak.kernelEndedMs - 5000) < 300);
});

Deno.test("a server that writes to a dead peer later: the clock starts at its first retransmission", () => {
  const full = judge("odd@late-writer", "vanish/idle");
  assert.equal(full.measurements.releasedHow, "retransmission-timeout");
  const measured = full.measurements.releaseMs!;
  // It pushes 5 s after the last exchange; TCP_USER_TIMEOUT 3 s from the first retransmission.
  assert.ok(measured > 8000 && measured < 9000, `${measured} ms`);
  // Watched only until the retransmissions had begun: predicted, never before what was
  // watched, and agreeing with what the full run measured within the stated tolerance.
  const cut = judge("odd@late-writer", "vanish/idle", watchedFor(6500));
  const p = cut.prediction!;
  assert.equal(p.from, "first-retransmission");
  assert.ok(p.atMs! >= 6500);
  assert.ok(
    measured >= p.atMs! - p.toleranceMs!.early && measured <= p.atMs! + p.toleranceMs!.late,
    `measured ${measured} ms, predicted ${p.atMs} ms −${p.toleranceMs!.early}/+${
      p.toleranceMs!.late
    }`,
  );
  // Watched only before it wrote: the kernel alone would never end an idle connection without
  // keepalive, and the server's later write cannot be known: inconclusive, no release figure.
  const early = judge("odd@late-writer", "vanish/idle", watchedFor(3000));
  assert.equal(early.expectations[0]?.verdict, "inconclusive");
  assert.equal(early.prediction?.releaseMs, null);
});

Deno.test("a server that dies mid-scenario is judged dead, with its exit and its log", () => {
  const r = judge("odd@dies", "vanish/idle");
  assert.deepEqual(verdicts(r), ["warn", "fail", "fail"]);
  assert.match(r.expectations[0]?.measured ?? "", /not released: server exited with code 3/);
  assert.match(r.expectations[2]?.measured ?? "", /^not served: server exited with code 3/);
  assert.equal(r.prediction, undefined);
  assert.ok(r.server?.log);
  // Its FIN (the kernel's, as it died) left before the runner saw it exit: a lookup that sees
  // the connection closed afterwards is still the death's doing, not a release by the server.
  const seenAfter = judge("odd@dies", "vanish/idle", (obs) => {
    const last = obs.connection.socket.at(-1)!;
    obs.connection.socket.push({
      ...last,
      at: obs.server.exit!.at + 6,
      state: "FIN_WAIT1",
      holding: "orphaned",
      fd: undefined,
      changed: ["holding"],
      previousSampleAt: obs.server.exit!.at - 9,
    });
  });
  assert.deepEqual(verdicts(seenAfter), ["warn", "fail", "fail"]);
  assert.equal(seenAfter.measurements.releaseMs, undefined);
});

Deno.test("a server that closed the idle connection on its own: survival not applicable", () => {
  // mosquitto closes a client silent for 1.5 × its MQTT keepalive: its FIN, 17 s after the
  // last traffic, was the first segment since the fault. The client says nothing either way.
  const mqtt = judge("mosquitto", "blip/idle-30s");
  assert.equal(mqtt.verdict, "skip");
  assert.deepEqual(verdicts(mqtt), ["skip", "pass", "pass"]);
  assert.match(
    mqtt.notes,
    /^Not applicable: the server closed the idle connection itself \(FIN 17 s after the last traffic\) before anything could tell it of the fault\. It closes a connection idle that long whether or not the client is there/,
  );
  assert.equal(mqtt.measurements.releasedHow, "server-fin");
  assert.equal(mqtt.recommendation, undefined);
  // vsftpd's idle_session_timeout: "421 Timeout." and its FIN in one burst, then an RST to
  // the client's next command. The FIN released it.
  const ftp = judge("vsftpd@idle-30", "blip/idle-30s");
  assert.equal(ftp.verdict, "skip");
  assert.equal(ftp.measurements.releasedHow, "server-fin");
  // Other expectations are still judged: a server that died fails.
  const died = judge("mosquitto", "blip/idle-30s", (obs) => {
    obs.server.exit = { at: obs.run.endAt - 100, code: 1, signal: null };
  });
  assert.equal(died.verdict, "fail");
  // A capture the kernel dropped packets from cannot show that the server sent nothing.
  const lossy = judge("mosquitto", "blip/idle-30s", (obs) => obs.capture.droppedByKernel = 2);
  assert.equal(lossy.verdict, "info");
  // A FIN after the survival check is the harness stopping the server: it says nothing.
  const late = judge("mosquitto", "blip/idle-30s", (obs) => {
    const survived = obs.exchanges.survived!;
    obs.exchanges.survived = { ...survived, at: obs.run.faultAt! + 16_000 };
  });
  assert.equal(late.verdict, "info");
  // Keepalive probes went unanswered before ref-hardened's abort: the loss stands.
  assert.equal(judge("ref-hardened", "blip/idle-30s").verdict, "info");
});
