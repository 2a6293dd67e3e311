/**
 * `reports/README.md`: the index. A summary table (one row per target: version and how many
 * scenarios ended in each verdict), then the matrix: targets as rows, scenario families as
 * columns, each cell one icon per scenario of the family (in suite order), each icon a link to
 * that scenario's section in the target's report. The family columns are split over as many
 * tables as it takes for each to fit GitHub's text column, so the index never scrolls sideways.
 *
 * @module
 */

import type { Results, ScenarioResult, Verdict } from "../results/schema.ts";
import { joinMd, lines, link, linkTarget, Markdown, md } from "./markdown_escape.ts";
import {
  badge,
  CELL_PADDING_PX,
  columnWidthsPx,
  GITHUB_COLUMN_PX,
  icon,
  legend,
  table,
  tableWidthPx,
  VERDICT_ORDER,
} from "./markdown_parts.ts";
import { scenarioAnchor, verdictCounts } from "./target_report.ts";

/** What a cell shows for a scenario a target did not run. */
export const NOT_RUN = "·";

/** The stock target of an id: "nginx" for "nginx@so-keepalive". */
function stock(id: string): string {
  return id.split("@")[0] ?? id;
}

/**
 * Targets in index order: servers by name, each stock target followed by its tuned variants,
 * then the reference servers (`ref-*`).
 */
export function targetOrder(all: readonly Results[]): Results[] {
  const key = (r: Results) => {
    const id = r.target.id;
    return [id.startsWith("ref-") ? "1" : "0", stock(id), id.includes("@") ? "1" : "0", id];
  };
  return [...all].sort((a, b) => {
    const ka = key(a), kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      const c = (ka[i] ?? "").localeCompare(kb[i] ?? "");
      if (c) return c;
    }
    return 0;
  });
}

/**
 * Scenario ids in suite (run) order: the order of `scenarios` in the results, by first
 * appearance across targets (in index order).
 */
export function scenarioOrder(all: readonly Results[]): string[] {
  return [...new Set(targetOrder(all).flatMap((r) => r.scenarios.map((s) => s.id)))];
}

/** The families of the scenario ids, in order, each with its cases in order. */
function families(ids: readonly string[]): [string, string[]][] {
  const out = new Map<string, string[]>();
  for (const id of ids) {
    const [family = id, ...rest] = id.split("/");
    out.set(family, [...out.get(family) ?? [], rest.join("/")]);
  }
  return [...out];
}

/** One icon of the matrix: a link to the scenario's section, its title "vanish/idle: pass". */
function cellIcon(r: Results, s: ScenarioResult | undefined, id: string): Markdown {
  if (!s) return md`${NOT_RUN}`;
  const target = linkTarget(`${r.target.id}.md#${scenarioAnchor(s)}`);
  return Markdown.unsafe(`[${icon(s.verdict)}](${target} "${id}: ${s.verdict}")`);
}

function targetLink(r: Results): Markdown {
  return link(r.target.id, `${r.target.id}.md`);
}

/** The matrix for some families, one table (plain Markdown). */
function matrix(
  targets: readonly Results[],
  group: readonly [string, string[]][],
): Markdown {
  return table(
    ["Target", ...group.map(([family]) => family)],
    targets.map((r) => {
      const byId = new Map(r.scenarios.map((s) => [s.id, s]));
      return [
        targetLink(r),
        ...group.map(([family, cases]) =>
          Markdown.unsafe(
            cases.map((c) => cellIcon(r, byId.get(`${family}/${c}`), `${family}/${c}`)).join(""),
          )
        ),
      ];
    }),
  );
}

/**
 * The families split into as few consecutive groups as fit GitHub's column (each group's matrix
 * estimated from its characters; see `tableWidthPx`), the widest group as narrow as it can be.
 */
function groups(
  targets: readonly Results[],
  all: readonly [string, string[]][],
): [string, string[]][][] {
  const [first = 0, ...rest] = columnWidthsPx(matrix(targets, all).toString());
  const target = 1 + first + CELL_PADDING_PX;
  const column = rest.map((w) => w + CELL_PADDING_PX);
  const width = (from: number, to: number) =>
    target + column.slice(from, to).reduce((a, b) => a + b, 0);
  // best[k][i]: the narrowest widest table splitting the first i families into k groups.
  const n = all.length;
  for (let k = 1; k <= n; k++) {
    const best: { max: number; cuts: number[] }[][] = [[{ max: 0, cuts: [] }]];
    for (let g = 1; g <= k; g++) {
      best[g] = [];
      for (let i = g; i <= n; i++) {
        let choice: { max: number; cuts: number[] } | undefined;
        for (let j = g - 1; j < i; j++) {
          const before = best[g - 1]?.[j];
          if (!before) continue;
          const max = Math.max(before.max, width(j, i));
          if (!choice || max < choice.max) choice = { max, cuts: [...before.cuts, i] };
        }
        if (choice) best[g]![i] = choice;
      }
    }
    const found = best[k]?.[n];
    if (found && (found.max <= GITHUB_COLUMN_PX || k === n)) {
      return found.cuts.map((end, g) => all.slice(found.cuts[g - 1] ?? 0, end));
    }
  }
  return [[...all]];
}

/** A version cut to `max` characters ("10.11.19-MariaDB-0…"); each report has it whole. */
function cut(version: string, max: number): string {
  return [...version].length > max ? `${[...version].slice(0, max - 1).join("")}…` : version;
}

/**
 * The summary table: target, version and a count per verdict shown. Versions are cut, as
 * little as it takes, when the table would not fit GitHub's column whole.
 */
function summary(
  targets: readonly Results[],
  shown: readonly Verdict[],
  counts: ReadonlyMap<Results, Record<Verdict, number>>,
): Markdown {
  const longest = Math.max(0, ...targets.map((r) => [...r.target.version].length));
  let out = md``;
  for (let max = Math.max(longest, 8); max >= 8; max--) {
    out = table(
      ["Target", "Version", ...shown.map(icon)],
      targets.map((r) => {
        const c = counts.get(r) ?? verdictCounts(r.scenarios);
        return [targetLink(r), cut(r.target.version, max), ...shown.map((v) => String(c[v]))];
      }),
    );
    if (tableWidthPx(out.toString()) <= GITHUB_COLUMN_PX) break;
  }
  return out;
}

/**
 * The index of several targets' results. `chartPath`: the chart of release times across
 * servers (e.g. `"releases.svg"`, relative to the index); when given, the index shows it and
 * links to it.
 */
export function renderIndex(
  all: readonly Results[],
  options: { chartPath?: string } = {},
): string {
  const targets = targetOrder(all);
  const fams = families(scenarioOrder(all));
  const counts = new Map(targets.map((r) => [r, verdictCounts(r.scenarios)]));
  const occurred = (v: Verdict) => [...counts.values()].some((c) => c[v] > 0);
  const interrupted = occurred("interrupted");
  // A column for each verdict some target had (pass, warn and fail always): the summary must
  // fit GitHub's column with the longest ids and versions.
  const shown = VERDICT_ORDER.filter((v) =>
    v === "pass" || v === "warn" || v === "fail" || occurred(v)
  );
  const left = VERDICT_ORDER.filter((v) => !shown.includes(v) && v !== "interrupted");
  const levels = new Map(targets.flatMap((r) => r.scenarios.map((s) => [s.id, s.level] as const)));
  // The chart is linked at the top and drawn at the end, after the tables it sums up.
  const chartLink = options.chartPath
    ? [
      md`How long each server holds a dead client, across servers: [the chart](#release-times-across-servers) (${
        link(options.chartPath, options.chartPath)
      }).`,
      md``,
    ]
    : [];
  const chart = options.chartPath
    ? [
      md`## Release times across servers`,
      md``,
      Markdown.unsafe(`![Release times across servers](${linkTarget(options.chartPath)})`),
      md``,
    ]
    : [];
  return lines([
    md`# clientdown conformance reports`,
    md``,
    md`How each server behaves when its client goes down mid-connection: ${targets.length} configurations (stock servers, each followed by its tuned variants, then the reference servers), ${
      fams.reduce((n, [, cases]) => n + cases.length, 0)
    } scenarios in ${fams.length} families. Each target links to its full report.`,
    md``,
    md`Verdicts, in the order every table uses:`,
    md``,
    legend({ interrupted }),
    md``,
    ...chartLink,
    md`## Summary`,
    md``,
    md`Scenarios per verdict, for each target${
      left.length
        ? md` (no column where no target had one: ${joinMd(left.map(badge), ", ")})`
        : md``
    }.`,
    md``,
    summary(targets, shown, counts),
    md``,
    md`## Matrix`,
    md``,
    md`One row per target, one column per family of scenarios; each cell shows one icon per scenario of the family, in the order of the key below (${NOT_RUN}: not run). Each icon links to the scenario's section in the target's report; hover it for the scenario and verdict.`,
    md``,
    md`Key: each family's scenarios in cell order, with their level.`,
    md``,
    lines(
      fams.map(([family, cases]) =>
        md`- **${family}**: ${
          cases.map((c) => `${c} (${levels.get(`${family}/${c}`) ?? "?"})`).join(" · ")
        }`
      ),
    ),
    md``,
    ...groups(targets, fams).flatMap((group) => [matrix(targets, group), md``]),
    ...chart,
  ]).toString();
}
