import assert from "node:assert/strict";
import { pairKey, parseShard, shardPairs, suiteFingerprint } from "./shard.ts";

const targets = ["ref-naive", "nginx", "ref-hardened"].map((id) => ({ id }));
const scenarios = ["vanish/idle", "rst/idle", "fin/idle", "vanish/mid-request", "churn/reset"]
  .map((id) => ({ id }));

Deno.test("shards: the union of N shards is exactly every pair, each in one shard, shares within one pair", () => {
  const all = targets.flatMap((t) => scenarios.map((s) => pairKey(t.id, s.id))).sort();
  for (const count of [1, 2, 3, 4, 7, 15, 16, 40]) {
    const seen: string[] = [];
    const sizes: number[] = [];
    for (let index = 1; index <= count; index++) {
      const picked = shardPairs(targets, scenarios, { index, count });
      assert.deepEqual([...picked.keys()], targets.map((t) => t.id), "every target, given order");
      const pairs = [...picked].flatMap(([t, list]) => list.map((s) => pairKey(t, s.id)));
      sizes.push(pairs.length);
      seen.push(...pairs);
      // Each target's scenarios stay in the given (suite) order.
      for (const list of picked.values()) {
        const order = list.map((s) => scenarios.indexOf(s));
        assert.deepEqual(order, [...order].sort((a, b) => a - b));
      }
    }
    assert.deepEqual(seen.sort(), all, `N = ${count}`);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced for N = ${count}`);
  }
});

Deno.test("shards: deterministic whatever order targets and scenarios come in", () => {
  const a = shardPairs(targets, scenarios, { index: 2, count: 3 });
  const b = shardPairs([...targets].reverse(), [...scenarios].reverse(), { index: 2, count: 3 });
  for (const t of targets) {
    assert.deepEqual(a.get(t.id)!.map((s) => s.id).sort(), b.get(t.id)!.map((s) => s.id).sort());
  }
  // Round-robin over sorted ids: a family is spread over the shards.
  assert.deepEqual(a.get("nginx")!.map((s) => s.id), ["fin/idle", "vanish/mid-request"]);
  assert.deepEqual(
    shardPairs(targets, scenarios, { index: 1, count: 3 }).get("nginx")!.map((s) => s.id),
    ["vanish/idle", "churn/reset"],
  );
});

Deno.test("parseShard: K/N with 1 ≤ K ≤ N, else a RangeError saying what is expected", () => {
  assert.deepEqual(parseShard("1/3"), { index: 1, count: 3 });
  assert.deepEqual(parseShard("3/3"), { index: 3, count: 3 });
  for (const bad of ["0/3", "4/3", "1/0", "1", "a/b", "1/3/5", "-1/3", "1.5/3", ""]) {
    assert.throws(() => parseShard(bad), {
      name: "RangeError",
      message: `Invalid --shard "${bad}": expected K/N with 1 ≤ K ≤ N, e.g. "1/3"`,
    });
  }
});

Deno.test("suiteFingerprint: equal for equal definitions, whatever the key order; differs on any change", async () => {
  const a = await suiteFingerprint([{
    id: "vanish/idle",
    level: "SHOULD",
    steps: [{ kind: "connect" }],
  }]);
  const b = await suiteFingerprint([{
    steps: [{ kind: "connect" }],
    level: "SHOULD",
    id: "vanish/idle",
  }]);
  const c = await suiteFingerprint([{
    id: "vanish/idle",
    level: "MUST",
    steps: [{ kind: "connect" }],
  }]);
  assert.match(a, /^sha256:[0-9a-f]{64}$/);
  assert.equal(a, b);
  assert.notEqual(a, c);
});
