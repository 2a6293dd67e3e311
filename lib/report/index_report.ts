/**
 * `reports/README.md`: the index matrix, scenarios × targets, one verdict per cell, each
 * target linking to its own report.
 *
 * @module
 */

import type { Results } from "../results/schema.ts";
import { lines, link, md } from "./markdown_escape.ts";
import { badge, table } from "./markdown_parts.ts";
import { verdictCounts } from "./target_report.ts";

/** The index of several targets' results. */
export function renderIndex(all: readonly Results[]): string {
  const targets = [...all].sort((a, b) => a.target.id.localeCompare(b.target.id));
  const ids = [...new Set(targets.flatMap((r) => r.scenarios.map((s) => s.id)))].sort();
  const level = new Map(targets.flatMap((r) => r.scenarios.map((s) => [s.id, s.level] as const)));
  const verdict = (r: Results, id: string) => {
    const s = r.scenarios.find((x) => x.id === id);
    return s ? badge(s.verdict) : "";
  };
  const targetLink = (r: Results) => link(r.target.id, `${r.target.id}.md`);
  const interrupted = targets.some((r) => verdictCounts(r.scenarios).interrupted > 0);
  return lines([
    md`# clientdown conformance reports`,
    md``,
    md`How each server behaves when its client goes down mid-connection. Each target links to its full report;`,
    md`verdicts: ✅ pass, ❌ fail (a MUST broken), ⚠️ warn (a SHOULD broken), ℹ️ info (MAY, measured only),`,
    interrupted
      ? md`⏭️ skip, ❔ inconclusive, 💥 error, ⏹️ interrupted (the run was stopped).`
      : md`⏭️ skip, ❔ inconclusive, 💥 error.`,
    md``,
    table(
      [
        "Target",
        "Version",
        "✅",
        "❌",
        "⚠️",
        "ℹ️",
        "⏭️",
        "❔",
        "💥",
        ...(interrupted ? ["⏹️"] : []),
      ],
      targets.map((r) => {
        const c = verdictCounts(r.scenarios);
        return [
          targetLink(r),
          r.target.version,
          ...[c.pass, c.fail, c.warn, c.info, c.skip, c.inconclusive, c.error].map(String),
          ...(interrupted ? [String(c.interrupted)] : []),
        ];
      }),
    ),
    md``,
    table(
      ["Scenario", "Level", ...targets.map(targetLink)],
      ids.map((id) => [id, level.get(id) ?? "", ...targets.map((r) => verdict(r, id))]),
    ),
    md``,
  ]).toString();
}
