import assert from "node:assert/strict";
import { diffResults, formatDiff, isWorse } from "./diff.ts";
import type { Verdict } from "./schema.ts";
import { makeResults } from "./testdata/make_results.ts";

Deno.test("diff: worse is pass → warn or fail and warn → fail, nothing else", () => {
  const worse: [Verdict, Verdict][] = [["pass", "warn"], ["pass", "fail"], ["warn", "fail"]];
  for (const [a, b] of worse) assert.ok(isWorse(a, b), `${a} → ${b}`);
  const notWorse: [Verdict, Verdict][] = [
    ["fail", "pass"],
    ["warn", "pass"],
    ["fail", "warn"],
    ["pass", "interrupted"],
    ["pass", "inconclusive"],
    ["pass", "error"],
    ["pass", "skip"],
    ["info", "fail"],
    ["pass", "pass"],
  ];
  for (const [a, b] of notWorse) assert.ok(!isWorse(a, b), `${a} → ${b}`);
});

Deno.test("diff: one verdict that got worse is printed with the figures that changed", () => {
  const old = makeResults("ref-hardened", { "rst/idle": "pass", "vanish/idle": "pass" });
  const now = makeResults("ref-hardened", { "rst/idle": "pass", "vanish/idle": "warn" });
  now.scenarios[1]!.expectations[0]!.actual = { ms: 12_300 };
  old.scenarios[1]!.expectations[0]!.actual = { ms: 5012 };
  // Within tolerance (25 % and 500 ms): not a change.
  now.scenarios[0]!.expectations[0]!.actual = { ms: 5490 };
  old.scenarios[0]!.expectations[0]!.actual = { ms: 5012 };
  const diff = diffResults([old], [now]);
  assert.equal(diff.worse, 1);
  assert.equal(
    formatDiff(diff),
    "worse   ref-hardened vanish/idle: pass → warn (worse); released within 10 min: 5 s → 12.3 s\n" +
      "1 verdict changed, 1 worse, over 2 scenarios compared\n",
  );
});

Deno.test("diff: better verdicts, new and removed scenarios and targets are shown, never worse", () => {
  const old = [
    makeResults("a", { "rst/idle": "fail", "fin/idle": "pass" }),
    makeResults("gone", { "rst/idle": "pass" }),
  ];
  const now = [
    makeResults("a", { "rst/idle": "pass", "vanish/idle": "fail" }),
    makeResults("new", { "rst/idle": "fail" }),
  ];
  now[0]!.target.version = "1.1.0";
  now[0]!.scenarios[0]!.measurements = {
    releaseMs: 5012,
    releasedHow: "server-fin",
    serverExit: { code: 0, signal: "SIGPIPE" },
  };
  const diff = diffResults(old, now);
  assert.equal(diff.worse, 0);
  assert.equal(
    formatDiff(diff),
    [
      "changed a: version 1.0.0 → 1.1.0",
      "changed a fin/idle: only in OLD (pass)",
      "changed a rst/idle: fail → pass; released by keepalive-timeout → server-fin; server exit — → killed by SIGPIPE",
      "changed a vanish/idle: only in NEW (fail)",
      "changed gone: only in OLD",
      "changed new: only in NEW",
      "1 verdict changed, 0 worse, over 1 scenarios compared",
      "",
    ].join("\n"),
  );
  assert.equal(formatDiff(diffResults(old, old)), "No changes over 3 scenarios compared\n");
});
