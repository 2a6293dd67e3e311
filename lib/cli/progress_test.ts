import assert from "node:assert/strict";
import type { Results } from "../results/schema.ts";
import {
  fitted,
  printable,
  Progress,
  RESULT_COLUMNS,
  resultLine,
  summary,
  wrapped,
} from "./progress.ts";
import { fakeResult } from "./testdata/temp_files.ts";
import type { Scenario } from "../suite/define_suite.ts";

const scenario = (id: string): Scenario => ({
  id,
  title: `Title of ${id}`,
  requirement: "A server does the right thing",
  level: "MUST",
  refs: ["RFC 9293"],
  phase: "idle",
  steps: [],
  expect: [],
});

function results(id: string, verdicts: ["pass" | "fail" | "error" | "skip", number][]): Results {
  return {
    schema: "clientdown/results@2",
    target: { id, version: "0.1.0" },
    environment: {
      kernel: "6.18.0",
      startedAt: "2026-11-24T01:00:00.000Z",
      durationMs: 1,
      deadlineMs: 60_000,
      concurrency: 4,
      clientdown: "0.1.0",
    },
    scenarios: verdicts.map(([verdict, harnessMs], i) => {
      const r = fakeResult(scenario(`x/case-${i}`), verdict);
      r.measurements.harness = { labUpMs: harnessMs, targetReadyMs: 10, teardownMs: 10 };
      return r;
    }),
  };
}

Deno.test("without a terminal: one plain line per finished scenario, nothing while running", () => {
  let text = "";
  const progress = new Progress({
    write: (t) => text += t,
    live: false,
    color: false,
    total: 2,
    showTarget: false,
  });
  progress.onEvent({
    kind: "start",
    target: "t",
    scenario: "vanish/idle",
    deadlineMs: 60_000,
    t: 0,
  });
  progress.onEvent({ kind: "waiting", target: "t", scenario: "vanish/idle", for: "release", t: 1 });
  assert.equal(text, "");
  progress.onEvent({
    kind: "end",
    target: "t",
    result: fakeResult(scenario("vanish/idle"), "fail"),
    t: 2,
  });
  progress.onEvent({
    kind: "end",
    target: "t",
    result: fakeResult(scenario("rst/idle"), "inconclusive"),
    t: 3,
  });
  assert.equal(
    text,
    "fail          vanish/idle                   released at 5 s by kernel keepalive  5.6 s\n" +
      "inconclusive  rst/idle                      released at 5 s by kernel keepalive  5.6 s\n",
  );
  assert(!text.includes("\x1b"), "no escape sequences without a terminal");
  progress.stop();
});

Deno.test("without a terminal: every heartbeat, one line of what still runs, so a CI log is never silent", async () => {
  let text = "";
  let clock = 0;
  const progress = new Progress({
    write: (t) => text += t,
    live: false,
    color: false,
    total: 3,
    showTarget: true,
    now: () => clock,
    heartbeatMs: 5,
  });
  progress.onEvent({
    kind: "start",
    target: "t",
    scenario: "vanish/idle",
    deadlineMs: 20_000,
    t: 0,
  });
  clock = 1000;
  progress.onEvent({ kind: "start", target: "t", scenario: "rst/idle", deadlineMs: 20_000, t: 1 });
  progress.onEvent({ kind: "waiting", target: "t", scenario: "vanish/idle", for: "release", t: 2 });
  clock = 31_000;
  // The heartbeat's own timer (5 ms here) writes it: wait for it, bounded.
  for (let i = 0; i < 200 && !text; i++) await new Promise((r) => setTimeout(r, 5));
  progress.stop();
  assert.equal(
    text.split("\n")[0],
    "… 2 running, 0 of 3 done; longest t vanish/idle (31 s, deadline 20 s): release",
  );
  assert(text.split("\n")[0]!.length <= 100);
});

/** Escape characters made visible, so expected output reads plainly in a pattern. */
const visible = (text: string) => text.replaceAll("\x1b", "⎋");

Deno.test("on a terminal: a live view of running scenarios, redrawn in place, colour when asked", () => {
  let text = "";
  let now = 1000;
  const progress = new Progress({
    write: (t) => text += t,
    live: true,
    color: true,
    total: 3,
    showTarget: true,
    now: () => now,
    redrawMs: 60_000, // the test redraws by ending scenarios; the timer must not fire meanwhile
  });
  const start = (scenario: string) =>
    progress.onEvent({ kind: "start", target: "ref-naive", scenario, deadlineMs: 60_000, t: 0 });
  start("vanish/idle");
  assert.match(
    visible(text),
    /^⎋\[1m1 running, 0 of 3 done⎋\[0m\n {2}ref-naive {2}vanish\/idle .* starting\n$/,
  );
  text = "";
  start("rst/idle");
  now = 13_300;
  progress.onEvent({
    kind: "waiting",
    target: "ref-naive",
    scenario: "vanish/idle",
    for: "release",
    t: 1,
  });
  assert.equal(text, "", "starts and waits wait for the next redraw");
  progress.onEvent({
    kind: "end",
    target: "ref-naive",
    result: fakeResult(scenario("rst/idle"), "pass"),
    t: 2,
  });
  assert(text.startsWith("\r\x1b[2A\x1b[J"), "the two lines drawn before are erased");
  const [finished, head, running, ...rest] = text.slice("\r\x1b[2A\x1b[J".length).split("\n");
  assert.match(visible(finished ?? ""), /^⎋\[32mpass {8}⎋\[0m {2}ref-naive {2}rst\/idle /);
  assert.equal(head, "\x1b[1m1 running, 1 of 3 done\x1b[0m");
  assert.match(running ?? "", /^ {2}ref-naive {2}vanish\/idle +12\.3 s \/ 60 s {2}release$/);
  assert.deepEqual(rest, [""]);
  progress.stop();
  assert(text.endsWith("\r\x1b[2A\x1b[J"), "stop() clears the live view");
});

Deno.test("summary: counts per verdict and target, wall time, sum of times, median overhead", () => {
  const text = summary([
    results("ref-hardened", [["pass", 40], ["pass", 60], ["skip", 100]]),
    results("ref-naive", [["fail", 50], ["error", 0]]),
  ], 7000);
  assert.equal(
    text,
    [
      "ref-hardened: 2 pass, 0 info, 1 skip, 0 warn, 0 inconclusive, 0 fail, 0 error",
      "ref-naive: 0 pass, 0 info, 0 skip, 0 warn, 0 inconclusive, 1 fail, 1 error",
      "5 scenarios: 2 pass, 0 info, 1 skip, 0 warn, 0 inconclusive, 1 fail, 1 error",
      "Wall time 7 s, sum of scenario times 28 s (4.0× in parallel)",
      "Harness overhead per scenario, median of 5: 70 ms (lab up 50 ms, target ready 10 ms, teardown 10 ms)",
    ].join("\n"),
  );
});

Deno.test("a key figure quoting a server's words cannot drive the terminal", () => {
  assert.equal(printable("ok\x1b[2J\x07\r\nend\u009b"), "ok\\x1b[2J\\x07\\x0d\\x0aend\\x9b");
});

Deno.test("result lines fit 100 columns: a long key figure is cut, the report keeps it whole", () => {
  const result = fakeResult(scenario("vanish/mid-response-v6"), "pass");
  result.notes = "x";
  const line = resultLine(result, { color: false, target: "lighttpd@keep-alive-idle-60s" });
  assert.ok(line.length <= RESULT_COLUMNS, `${line.length}: ${line}`);
  const long = {
    ...result,
    verdict: "error" as const,
    notes: `Harness error: ${"word ".repeat(60)}`,
  };
  const cut = resultLine(long, { color: true, target: "lighttpd@keep-alive-idle-60s" });
  assert.ok(cut.replaceAll("\x1b[91m", "").replaceAll("\x1b[0m", "").length <= RESULT_COLUMNS, cut);
  assert.deepEqual(wrapped("aaa bbb ccc ddd", "  ", 11), ["  aaa bbb", "  ccc ddd"]);
  assert.equal(fitted("abcdef", 4), "abc…");
});

Deno.test("an error shows the server's last lines under its result line, escaped; other verdicts do not", () => {
  let text = "";
  const progress = new Progress({
    write: (t) => text += t,
    live: false,
    color: false,
    total: 2,
    showTarget: false,
  });
  const failed = fakeResult(scenario("vanish/idle"), "error");
  failed.server = { log: "starting\nslapd: decoding error\n\x1b[31mbye" };
  progress.onEvent({ kind: "end", target: "t", result: failed, t: 1 });
  const passed = fakeResult(scenario("rst/idle"), "pass");
  passed.server = { log: "fine" };
  progress.onEvent({ kind: "end", target: "t", result: passed, t: 2 });
  progress.stop();
  const lines = text.trimEnd().split("\n");
  assert.deepEqual(lines.slice(1, 4), [
    "    server: starting",
    "    server: slapd: decoding error",
    "    server: \\x1b[31mbye",
  ]);
  assert.equal(lines.length, 5);
});
