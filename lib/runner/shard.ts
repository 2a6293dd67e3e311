/**
 * Sharding a certification over machines: `certify --shard K/N` runs a deterministic K-th of
 * the (target × scenario) pairs, and `merge` puts the shards back together. The pairs are
 * sorted by target id then scenario id and dealt round-robin, so every machine computes the
 * same split from the same command line, and each shard gets a share of every family (a
 * family's long waits do not all land on one machine).
 *
 * @module
 */

/** The K-th of N shards (1-based). */
export interface Shard {
  /** K, from 1 to `count`. */
  index: number;
  /** N, at least 1. */
  count: number;
}

/**
 * Parses "K/N" (1 ≤ K ≤ N); throws a RangeError naming what was expected.
 *
 * @example
 * ```ts
 * import { parseShard } from "./shard.ts";
 * parseShard("2/3"); // { index: 2, count: 3 }
 * ```
 */
export function parseShard(text: string): Shard {
  const match = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new RangeError(
      `Invalid --shard "${text}": expected K/N with 1 ≤ K ≤ N, e.g. "1/3"`,
    );
  }
  return { index, count };
}

/** Something with a stable id: a target or a scenario. */
export interface HasId {
  /** Its stable id. */
  id: string;
}

/**
 * The scenarios of each target that belong to `shard`, in the order given (suite order);
 * every target is in the map, with an empty list when the shard has none of its pairs.
 *
 * @example
 * ```ts
 * import { shardPairs } from "./shard.ts";
 * const picked = shardPairs([{ id: "t" }], [{ id: "a" }, { id: "b" }, { id: "c" }], {
 *   index: 1,
 *   count: 2,
 * });
 * picked.get("t")?.map((s) => s.id); // ["a", "c"]
 * ```
 */
export function shardPairs<T extends HasId, S extends HasId>(
  targets: readonly T[],
  scenarios: readonly S[],
  shard: Shard,
): Map<string, S[]> {
  const byId = (a: HasId, b: HasId) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  const chosen = new Set<string>();
  let i = 0;
  for (const target of [...targets].sort(byId)) {
    for (const scenario of [...scenarios].sort(byId)) {
      if (i++ % shard.count === shard.index - 1) chosen.add(pairKey(target.id, scenario.id));
    }
  }
  return new Map(
    targets.map((t) => [t.id, scenarios.filter((s) => chosen.has(pairKey(t.id, s.id)))]),
  );
}

/** The key of one (target, scenario) pair. */
export function pairKey(target: string, scenario: string): string {
  return `${target}\u0000${scenario}`;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return typeof value === "function" ? String(value) : value;
}

/**
 * A fingerprint of scenario definitions ("sha256:<hex>" of their canonical JSON, keys
 * sorted): equal exactly when the scenarios ask the same of the server, whatever machine
 * computed it. Results of different suites are refused by `merge`.
 *
 * @example
 * ```ts
 * import { suiteFingerprint } from "./shard.ts";
 * const fp = await suiteFingerprint([{ id: "vanish/idle", level: "SHOULD" }]);
 * fp.startsWith("sha256:"); // true
 * ```
 */
export async function suiteFingerprint(scenarios: readonly unknown[]): Promise<string> {
  const text = JSON.stringify(canonical(scenarios));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `sha256:${hex}`;
}
