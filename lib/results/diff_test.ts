import assert from "node:assert/strict";
import { diffResults, formatDiff, isWorse } from "./diff.ts";
import type { Verdict } from "./schema.ts";
import { makeResults } from "./testdata/make_results.ts";

Deno.test("diff: worse is any move away from pass (error included) and warn → fail", () => {
  const worse: [Verdict, Verdict][] = [
    ["pass", "warn"],
    ["pass", "fail"],
    ["warn", "fail"],
    ["pass", "error"],
    ["pass", "inconclusive"],
    ["pass", "skip"],
    ["pass", "interrupted"],
    ["pass", "info"],
  ];
  for (const [a, b] of worse) assert.ok(isWorse(a, b), `${a} → ${b}`);
  const notWorse: [Verdict, Verdict][] = [
    ["fail", "pass"],
    ["warn", "pass"],
    ["fail", "warn"],
    ["info", "fail"],
    ["error", "fail"],
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
      "changed a rst/idle: fail → pass; released by keepalive-timeout → server-fin; server exit — → killed by SIGPIPE",
      "changed gone: only in OLD",
      "changed new: only in NEW",
      "changed a fin/idle: only in OLD (pass)",
      "changed a vanish/idle: only in NEW (fail)",
      "1 verdict changed, 0 worse, over 1 scenarios compared",
      "",
    ].join("\n"),
  );
  assert.equal(formatDiff(diffResults(old, old)), "No changes over 3 scenarios compared\n");
});

Deno.test("diff: different deadlines warn first and last; worse lines lead; many one-sided scenarios are one line", () => {
  const verdicts = Object.fromEntries(
    Array.from({ length: 8 }, (_, i) => [`vanish/case-${i}`, "pass" as Verdict]),
  );
  const old = makeResults("ref-naive", { ...verdicts, "rst/idle": "pass", "fin/idle": "pass" });
  const now = makeResults("ref-naive", { "rst/idle": "error", "fin/idle": "fail" });
  now.environment.deadlineMs = 20_000;
  old.environment.deadlineMs = 900_000;
  const text = formatDiff(diffResults([old], [now]));
  const warning = "WARNING: the runs' deadlines differ (ref-naive: OLD 15 min, NEW 20 s): a " +
    "shorter deadline predicts or leaves inconclusive what a longer one measures, so verdicts " +
    "and figures may differ for that reason alone";
  assert.deepEqual(text.trimEnd().split("\n"), [
    warning,
    "worse   ref-naive fin/idle: pass → fail (worse)",
    "worse   ref-naive rst/idle: pass → error (worse)",
    "changed ref-naive: 8 scenarios only in OLD (vanish/case-0, vanish/case-1, vanish/case-2, …)",
    "2 verdicts changed, 2 worse, over 2 scenarios compared",
    warning,
  ]);
});
