import assert from "node:assert/strict";
import { shardPairs } from "../runner/shard.ts";
import { type MergeInput, mergeResults } from "./merge.ts";
import type { Results, Verdict } from "./schema.ts";
import { makeResults } from "./testdata/make_results.ts";

const SCENARIOS = ["vanish/idle", "rst/idle", "fin/idle", "vanish/mid-request", "churn/reset"];
const TARGETS = ["ref-naive", "ref-hardened"];
const SUITE = `sha256:${"ab".repeat(32)}`;
const verdictOf = (t: string, s: string): Verdict =>
  t === "ref-naive" && s.startsWith("vanish") ? "fail" : s === "fin/idle" ? "warn" : "pass";

/** What one machine writes: every target with every scenario, in suite order. */
function whole(): Results[] {
  return TARGETS.map((t) =>
    makeResults(t, Object.fromEntries(SCENARIOS.map((s) => [s, verdictOf(t, s)])), {
      suite: SUITE,
    })
  );
}

/** What shard `index` of `count` writes, as certify --shard does. */
function shard(index: number, count: number): MergeInput[] {
  const picked = shardPairs(TARGETS.map((id) => ({ id })), SCENARIOS.map((id) => ({ id })), {
    index,
    count,
  });
  return TARGETS.map((t) => ({
    path: `shard-${index}/${t}.json`,
    results: makeResults(
      t,
      Object.fromEntries(picked.get(t)!.map((s) => [s.id, verdictOf(t, s.id)])),
      {
        suite: SUITE,
        startedAt: `2026-11-24T0${index}:00:00.000Z`,
        durationMs: 1000 * index,
        shard: { index, count, targets: [...TARGETS].sort(), scenarios: SCENARIOS },
      },
    ),
  }));
}

Deno.test("merge: shards from several machines give the results one machine writes", () => {
  for (const count of [1, 2, 3, 5]) {
    const inputs = Array.from({ length: count }, (_, i) => shard(i + 1, count)).flat().reverse();
    const merged = mergeResults(inputs);
    const one = whole().sort((a, b) => a.target.id < b.target.id ? -1 : 1);
    assert.deepEqual(merged.map((r) => r.scenarios), one.map((r) => r.scenarios), `N = ${count}`);
    assert.deepEqual(merged.map((r) => r.target), one.map((r) => r.target));
    assert.deepEqual(merged[0]!.environment, {
      ...one[0]!.environment,
      startedAt: "2026-11-24T01:00:00.000Z",
      durationMs: 1000 * count,
    });
  }
});

Deno.test("merge: keeps the kernel's CONFIG_HZ only when every piece says the same", () => {
  const withHz = (hz: number | undefined) => (i: MergeInput): MergeInput => {
    const results = structuredClone(i.results);
    if (hz !== undefined) results.environment.kernelHz = hz;
    return { ...i, results };
  };
  const hzOf = (a: number | undefined, b: number | undefined) =>
    mergeResults([...shard(1, 2).map(withHz(a)), ...shard(2, 2).map(withHz(b))])[0]!
      .environment.kernelHz;
  assert.equal(hzOf(250, 250), 250);
  assert.equal(hzOf(250, 1000), undefined);
  assert.equal(hzOf(250, undefined), undefined);
  assert.equal(hzOf(undefined, undefined), undefined);
});

Deno.test("merge: refuses different clientdown versions, suites, deadlines, plans; names the files", () => {
  const cases: [(r: Results) => void, RegExp][] = [
    [
      (r) => r.environment.clientdown = "0.2.0",
      /^Shards differ in clientdown version: "0\.1\.0" in "shard-1\/ref-naive\.json", "0\.2\.0" in "shard-2\/ref-naive\.json"$/,
    ],
    [
      (r) => r.environment.suite = `sha256:${"cd".repeat(32)}`,
      /^Shards differ in suite \(fingerprint\): /,
    ],
    [
      (r) => r.environment.deadlineMs = 90_000,
      /^Shards differ in deadline \(ms\): 60000 in .*, 90000 in /,
    ],
    [(r) => r.environment.shard!.count = 4, /^Shards differ in shard plan/],
    [(r) => r.target.version = "2.0", /^Shards differ in the version of target "ref-naive"/],
  ];
  for (const [change, message] of cases) {
    const second = shard(2, 2);
    change(second[0]!.results);
    assert.throws(() => mergeResults([...shard(1, 2), ...second]), { name: "MergeError", message });
  }
});

Deno.test("merge: a pair given twice or missing is named, with the shard it belongs to", () => {
  assert.throws(
    () => mergeResults([...shard(1, 3), ...shard(2, 3), ...shard(2, 3), ...shard(3, 3)]),
    {
      name: "MergeError",
      message:
        /^Pairs given twice: ref-hardened × fin\/idle \(in "shard-2\/ref-hardened\.json" and "shard-2\/ref-hardened\.json"\), ref-hardened × vanish\/mid-request .*, ref-naive × rst\/idle .*$/,
    },
  );
  assert.throws(() => mergeResults([...shard(1, 3), ...shard(3, 3)]), {
    name: "MergeError",
    message:
      /^Missing 3 of 10 pairs \(shard 2\/3 not given\): ref-hardened × fin\/idle, ref-hardened × vanish\/mid-request, ref-naive × rst\/idle$/,
  });
  const partial = shard(2, 3);
  partial[1]!.results.scenarios.pop();
  assert.throws(() => mergeResults([...shard(1, 3), ...partial, ...shard(3, 3)]), {
    message:
      /^Missing 1 of 10 pairs \(of shard 2\/3: interrupted\?\): ref-hardened × vanish\/mid-request$/,
  });
  assert.throws(() => mergeResults([]), { message: "No results files to merge" });
});

Deno.test("merge: whole runs of different targets (no shards) combine; the same target twice is refused", () => {
  const [naive, hardened] = whole();
  const merged = mergeResults([{ path: "b/x.json", results: naive! }, {
    path: "a/y.json",
    results: hardened!,
  }]);
  assert.deepEqual(merged.map((r) => r.target.id), ["ref-hardened", "ref-naive"]);
  assert.throws(
    () => mergeResults([{ path: "a.json", results: naive! }, { path: "b.json", results: naive! }]),
    {
      message:
        /^Pairs given twice: ref-naive × churn\/reset \(in "a\.json" and "b\.json"\), .*, ref-naive × vanish\/mid-request \(in "a\.json" and "b\.json"\)$/,
    },
  );
});
