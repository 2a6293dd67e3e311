/**
 * `reports/<target>.md`: the conformance report a server author publishes. Reads only the
 * results JSON, so `report` rebuilds it byte for byte without a lab.
 *
 * @module
 */

import type { Results, ScenarioResult, Verdict } from "../results/schema.ts";
import { VERDICTS } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import { badge, keyFigure, releasedHow, table } from "./markdown_parts.ts";
import { mermaidTimeline } from "./mermaid_timeline.ts";

/** Counts of each verdict. */
export function verdictCounts(scenarios: readonly ScenarioResult[]): Record<Verdict, number> {
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const s of scenarios) counts[s.verdict]++;
  return counts;
}

/** The verdicts the summary shows: all but `interrupted`, which shows only when it occurred. */
function summaryVerdicts(counts: Record<Verdict, number>): Verdict[] {
  return VERDICTS.filter((v) => v !== "interrupted" || counts[v] > 0);
}

/** "passed / checked" for one level; skipped and errored scenarios are not counted as checked. */
function score(scenarios: readonly ScenarioResult[], level: "MUST" | "SHOULD"): string {
  const checked = scenarios.filter((s) =>
    s.level === level && ["pass", "fail", "warn"].includes(s.verdict)
  );
  const passed = checked.filter((s) => s.verdict === "pass").length;
  return checked.length ? `${passed} / ${checked.length}` : "—";
}

/** The anchor GitHub gives a heading. */
export function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

function heading(s: ScenarioResult): string {
  return `${s.id}: ${s.title}`;
}

function measuredLines(s: ScenarioResult): string[] {
  const m = s.measurements;
  const lines: string[] = [];
  if (m.releaseMs !== undefined) {
    const since = m.releaseSinceLastTrafficMs !== undefined
      ? `, ${formatMs(m.releaseSinceLastTrafficMs)} after the last traffic`
      : "";
    lines.push(
      `Released ${formatMs(m.releaseMs)} after the fault${since}: ${releasedHow(m.releasedHow)}`,
    );
  } else if (m.releasedHow === "never") {
    lines.push("Not released within the deadline");
  }
  if (m.keepaliveProbes) lines.push(`Keepalive probes seen: ${m.keepaliveProbes}`);
  if (m.retransmissions) lines.push(`Retransmissions seen: ${m.retransmissions}`);
  if (m.zeroWindowProbes) lines.push(`Zero-window probes seen: ${m.zeroWindowProbes}`);
  if (m.othersMaxLatencyMs !== undefined) {
    lines.push(
      `Other clients: max latency ${formatMs(m.othersMaxLatencyMs)}, ${
        m.othersTimeouts ?? 0
      } unanswered`,
    );
  }
  if (m.serverExit) {
    lines.push(
      `Server process ended: ${
        m.serverExit.signal ? `killed by ${m.serverExit.signal}` : `exit code ${m.serverExit.code}`
      }`,
    );
  }
  if (m.churnOpened !== undefined) {
    const refused = m.churnRefused
      ? `, ${m.churnRefused} refused or dropped at once by the server`
      : "";
    lines.push(`Churn: ${m.churnOpened} clients connected${refused}`);
  }
  if (m.fdsBefore !== undefined && m.fdsAfter !== undefined) {
    lines.push(`Server fds: ${m.fdsBefore} before, ${m.fdsAfter} after`);
  }
  if (m.rssKbBefore !== undefined && m.rssKbAfter !== undefined) {
    lines.push(`Server RSS: ${m.rssKbBefore} KiB before, ${m.rssKbAfter} KiB after`);
  }
  return lines;
}

function scenarioSection(s: ScenarioResult): string {
  const parts = [
    `### ${heading(s)}`,
    "",
    `> ${s.requirement}`,
    "",
    `**Level** ${s.level} · **Phase** ${s.phase} · **References** ${
      s.refs.join("; ")
    } · **Verdict** ${badge(s.verdict)}`,
    "",
  ];
  const measured = measuredLines(s);
  if (measured.length) parts.push(...measured.map((l) => `- ${l}`), "");
  if (s.expectations.length) {
    parts.push(
      table(
        ["Expectation", "Verdict", "Measured"],
        s.expectations.map((
          e,
        ) => [
          e.expectation,
          badge(e.verdict),
          e.predicted ? `${e.measured} (predicted)` : e.measured,
        ]),
      ),
      "",
    );
  }
  if (s.socketOptions) {
    const o = s.socketOptions;
    parts.push(
      `Server socket options (read with pidfd_getfd + getsockopt): SO_KEEPALIVE ${
        o.keepalive ? "on" : "off"
      }, ` +
        `TCP_KEEPIDLE ${o.keepIdleS} s, TCP_KEEPINTVL ${o.keepIntvlS} s, TCP_KEEPCNT ${o.keepCnt}, ` +
        `TCP_USER_TIMEOUT ${o.userTimeoutMs ? `${o.userTimeoutMs} ms` : "0 (off)"}`,
      "",
    );
  }
  if (s.prediction) {
    const p = s.prediction;
    parts.push(
      `Prediction (from the socket options and the namespace's sysctls, not measured): ${
        p.releaseMs === null
          ? "never released"
          : `released ${formatMs(p.releaseMs)} after the ${p.from.replaceAll("-", " ")}`
      } by ${p.mechanism}`,
      "",
    );
  }
  if (s.notes) parts.push(s.notes, "");
  if (s.recommendation) parts.push(`**Recommendation:** ${s.recommendation}`, "");
  if (s.evidence.length) {
    parts.push(
      "<details><summary>Timeline</summary>",
      "",
      mermaidTimeline(s.evidence),
      "",
      "</details>",
      "",
    );
  }
  return parts.join("\n");
}

/** The whole report for one target. */
export function renderTargetReport(results: Results): string {
  const { target, environment: env, scenarios } = results;
  const counts = verdictCounts(scenarios);
  const title = target.title ? `${target.title} (${target.id})` : target.id;
  return [
    `# clientdown conformance report: ${title}`,
    "",
    table(["", ""], [
      ["Target", `${target.id} ${target.version}`],
      ["Kernel", env.kernel],
      ["Date", env.startedAt],
      ["Deadline per scenario", formatMs(env.deadlineMs)],
      ["Concurrency", String(env.concurrency)],
      ["Wall time", formatMs(env.durationMs)],
      ["clientdown", env.clientdown],
    ]),
    "",
    "## Summary",
    "",
    table(
      [...summaryVerdicts(counts).map(badge), "MUST passed", "SHOULD passed"],
      [[
        ...summaryVerdicts(counts).map((v) => String(counts[v])),
        score(scenarios, "MUST"),
        score(scenarios, "SHOULD"),
      ]],
    ),
    "",
    table(
      ["Scenario", "Level", "Verdict", "Key figure"],
      scenarios.map((
        s,
      ) => [`[${s.id}](#${anchor(heading(s))})`, s.level, badge(s.verdict), keyFigure(s)]),
    ),
    "",
    "## Scenarios",
    "",
    ...scenarios.map(scenarioSection),
  ].join("\n");
}
