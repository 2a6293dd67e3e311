/**
 * `reports/index.json`: the index of a reports directory for tools (the machine-readable twin
 * of `reports/README.md`): every target with its version and counts per verdict, and the
 * scenario × target matrix of verdicts. Targets and scenarios are sorted by id, so the same
 * results give the same index on every machine.
 *
 * @module
 */

import { type Results, type Verdict, VERDICTS } from "../results/schema.ts";
import { INDEX_SCHEMA, type IndexScenario, type ResultsIndex } from "./index_schema.ts";

/** The index file's name in a reports directory (never read as a results file). */
export const INDEX_JSON = "index.json";

const byId = (a: { id: string }, b: { id: string }) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/**
 * The index of several targets' results.
 *
 * @example
 * ```ts ignore
 * import { buildIndex } from "./index_json.ts";
 * const index = buildIndex([results]);
 * index.matrix["vanish/idle"]?.["ref-hardened"]; // "pass"
 * ```
 */
export function buildIndex(all: readonly Results[]): ResultsIndex {
  const targets = [...all].sort((a, b) => byId(a.target, b.target));
  const scenarios = new Map<string, IndexScenario>();
  // No prototype: ids come from results files, and "__proto__" must stay a plain key.
  const matrix: Record<string, Record<string, Verdict>> = Object.create(null);
  for (const r of targets) {
    for (const s of r.scenarios) {
      if (!scenarios.has(s.id)) scenarios.set(s.id, { id: s.id, level: s.level, title: s.title });
    }
  }
  const rows = [...scenarios.values()].sort(byId);
  for (const row of rows) matrix[row.id] = Object.create(null);
  for (const r of targets) {
    for (const s of r.scenarios) matrix[s.id]![r.target.id] = s.verdict;
  }
  return {
    schema: INDEX_SCHEMA,
    targets: targets.map((r) => {
      const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
      for (const s of r.scenarios) counts[s.verdict]++;
      return {
        id: r.target.id,
        ...(r.target.title === undefined ? {} : { title: r.target.title }),
        version: r.target.version,
        report: `${r.target.id}.md`,
        results: `${r.target.id}.json`,
        clientdown: r.environment.clientdown,
        deadlineMs: r.environment.deadlineMs,
        startedAt: r.environment.startedAt,
        counts,
      };
    }),
    scenarios: rows,
    matrix,
  };
}

/** The index as the text of `index.json`. */
export function renderIndexJson(all: readonly Results[]): string {
  return `${JSON.stringify(buildIndex(all), null, 2)}\n`;
}
