/**
 * Putting shards back together: the results of `certify --shard K/N` from any number of
 * machines become the per-target results one machine would have written. Shards of different
 * clientdown versions, suites or deadlines are refused, and so are a pair run twice and a
 * pair of the run that no shard has.
 *
 * @module
 */

import type { Results, ScenarioResult } from "./schema.ts";

/** A results file to merge, with the path that names it in messages. */
export interface MergeInput {
  /** Where it was read from (for messages). */
  path: string;
  /** Its results. */
  results: Results;
}

/** Why shards cannot be merged; the message names the files and what differs. */
export class MergeError extends Error {
  /** A merge error with its message. */
  constructor(message: string) {
    super(message);
    this.name = "MergeError";
  }
}

type Plan = NonNullable<Results["environment"]["shard"]>;

const SHOWN = 8;

function listed(items: readonly string[]): string {
  const shown = items.slice(0, SHOWN).join(", ");
  return items.length > SHOWN ? `${shown} and ${items.length - SHOWN} more` : shown;
}

/** Refuses inputs that disagree on a run setting; `what` names it in the message. */
function same<T>(inputs: readonly MergeInput[], what: string, of: (r: Results) => T): void {
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const value = JSON.stringify(of(input.results) ?? null);
    if (!seen.has(value)) seen.set(value, input.path);
  }
  if (seen.size > 1) {
    const each = [...seen].map(([value, path]) => `${value} in "${path}"`);
    throw new MergeError(`Shards differ in ${what}: ${each.join(", ")}`);
  }
}

function planKey(plan: Plan): string {
  return JSON.stringify([plan.count, plan.targets, plan.scenarios]);
}

/** The shard (1-based) a pair belongs to, as `shardPairs` deals them. */
function shardOfPairs(plan: Plan): Map<string, number> {
  const sorted = (ids: readonly string[]) => [...ids].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  const of = new Map<string, number>();
  let i = 0;
  for (const t of sorted(plan.targets)) {
    for (const s of sorted(plan.scenarios)) of.set(`${t} × ${s}`, (i++ % plan.count) + 1);
  }
  return of;
}

function environmentOf(pieces: readonly Results[]): Results["environment"] {
  const envs = pieces.map((r) => r.environment);
  const first = envs[0]!;
  const kernels = [...new Set(envs.map((e) => e.kernel))];
  const interrupted = envs.filter((e) => e.interrupted).map((e) => e.interrupted!);
  const hzs = [...new Set(envs.map((e) => e.kernelHz))];
  const env: Results["environment"] = {
    kernel: kernels.join(", "),
    // One HZ only when every piece says the same.
    ...(hzs.length === 1 && hzs[0] !== undefined ? { kernelHz: hzs[0] } : {}),
    ...(envs.some((e) => e.rootless) ? { rootless: true as const } : {}),
    startedAt: envs.map((e) => e.startedAt).sort()[0]!,
    // Shards run side by side: the run took as long as its slowest shard.
    durationMs: Math.max(...envs.map((e) => e.durationMs)),
    deadlineMs: first.deadlineMs,
    concurrency: Math.max(...envs.map((e) => e.concurrency)),
    clientdown: first.clientdown,
  };
  if (interrupted.length) {
    env.interrupted = {
      signal: interrupted[0]!.signal,
      finished: interrupted.reduce((n, i) => n + i.finished, 0),
      planned: interrupted.reduce((n, i) => n + i.planned, 0),
    };
  }
  if (first.suite !== undefined) env.suite = first.suite;
  return env;
}

/**
 * Merges results files (shards of one run, or whole runs of different targets) into one
 * results per target, sorted by target id, each with its scenarios in suite order. Throws a
 * MergeError when they cannot make one run.
 *
 * @example
 * ```ts ignore
 * import { mergeResults } from "./merge.ts";
 * const merged = mergeResults([{ path: "a/x.json", results: a }, { path: "b/x.json", results: b }]);
 * ```
 */
export function mergeResults(inputs: readonly MergeInput[]): Results[] {
  if (!inputs.length) throw new MergeError("No results files to merge");
  same(inputs, "clientdown version", (r) => r.environment.clientdown);
  same(inputs, "suite (fingerprint)", (r) => r.environment.suite);
  same(inputs, "deadline (ms)", (r) => r.environment.deadlineMs);
  const sharded = inputs.filter((i) => i.results.environment.shard);
  same(sharded, "shard plan (count, targets or scenarios)", (r) => {
    const plan = r.environment.shard!;
    return planKey({ ...plan, index: 0 });
  });
  const plan = sharded[0]?.results.environment.shard;

  const byTarget = new Map<string, MergeInput[]>();
  for (const input of inputs) {
    const id = input.results.target.id;
    byTarget.set(id, [...byTarget.get(id) ?? [], input]);
  }
  const duplicates: string[] = [];
  const found = new Set<string>();
  const merged: Results[] = [];
  for (const [id, pieces] of byTarget) {
    same(pieces, `the version of target "${id}"`, (r) => r.target.version);
    if (plan && !plan.targets.includes(id)) {
      const path = pieces[0]!.path;
      if (pieces.some((p) => p.results.environment.shard)) {
        throw new MergeError(`Target "${id}" in "${path}" is not in its shard plan`);
      }
    }
    const where = new Map<string, { scenario: ScenarioResult; path: string }>();
    for (const piece of pieces) {
      for (const scenario of piece.results.scenarios) {
        const pair = `${id} × ${scenario.id}`;
        const earlier = where.get(scenario.id);
        if (earlier) {
          duplicates.push(`${pair} (in "${earlier.path}" and "${piece.path}")`);
          continue;
        }
        where.set(scenario.id, { scenario, path: piece.path });
        found.add(pair);
      }
    }
    const order = plan && plan.targets.includes(id)
      ? plan.scenarios
      : pieces[0]!.results.scenarios.map((s) => s.id);
    const rank = new Map(order.map((s, i) => [s, i]));
    const scenarios = [...where.values()].map((w) => w.scenario).sort((a, b) =>
      (rank.get(a.id) ?? order.length) - (rank.get(b.id) ?? order.length)
    );
    const first = pieces[0]!.results;
    merged.push({
      schema: first.schema,
      target: first.target,
      environment: environmentOf(pieces.map((p) => p.results)),
      scenarios,
    });
  }
  if (duplicates.length) {
    throw new MergeError(`Pairs given twice: ${listed(duplicates.sort())}`);
  }
  if (plan) {
    const shardOf = shardOfPairs(plan);
    const missing = [...shardOf.keys()].filter((pair) => !found.has(pair));
    if (missing.length) {
      const shards = [...new Set(missing.map((p) => shardOf.get(p)!))].sort((a, b) => a - b);
      const wholly = shards.filter((k) =>
        [...shardOf].filter(([, s]) => s === k).every(([pair]) => !found.has(pair))
      );
      const hint = wholly.length
        ? ` (shard${wholly.length > 1 ? "s" : ""} ${
          wholly.map((k) => `${k}/${plan.count}`).join(", ")
        } not given)`
        : ` (of shard${shards.length > 1 ? "s" : ""} ${
          shards.map((k) => `${k}/${plan.count}`).join(", ")
        }: interrupted?)`;
      throw new MergeError(
        `Missing ${missing.length} of ${shardOf.size} pairs${hint}: ${listed(missing)}`,
      );
    }
  }
  return merged.sort((a, b) => a.target.id < b.target.id ? -1 : a.target.id > b.target.id ? 1 : 0);
}
