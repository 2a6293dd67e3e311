/**
 * `reports/<target>.md`: the conformance report a server author publishes. Reads only the
 * results JSON, so `report` rebuilds it byte for byte without a lab.
 *
 * @module
 */

import type { Prediction, Results, ScenarioResult, Verdict } from "../results/schema.ts";
import { VERDICTS } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import { badge, keyFigure, releasedHow, table } from "./markdown_parts.ts";
import {
  blockText,
  codeBlock,
  htmlText,
  joinMd,
  lines,
  link,
  Markdown,
  md,
  oneLine,
} from "./markdown_escape.ts";
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

/** The anchor GitHub gives a heading (from its text as rendered: line breaks are spaces). */
export function anchor(heading: string): string {
  return oneLine(heading).toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

function heading(s: ScenarioResult): string {
  return `${s.id}: ${s.title}`;
}

function measuredLines(s: ScenarioResult): Markdown[] {
  const m = s.measurements;
  const lines: Markdown[] = [];
  if (m.releaseMs !== undefined) {
    const since = m.releaseSinceLastTrafficMs !== undefined
      ? md`, ${formatMs(m.releaseSinceLastTrafficMs)} after the last traffic`
      : md``;
    lines.push(
      md`Released ${formatMs(m.releaseMs)} after the fault${since}: ${releasedHow(m.releasedHow)}`,
    );
  } else if (m.releasedHow === "never") {
    lines.push(md`Not released within the deadline`);
  }
  if (m.leak) {
    const fd = m.leak.fd === null ? "its fd" : `fd ${m.leak.fd}`;
    lines.push(
      md`Leak: the kernel ended the socket ${formatMs(m.leak.kernelEndedMs)} after the fault (${
        releasedHow(m.leak.how)
      }) while the server still held ${fd}`,
    );
  }
  if (m.keepaliveProbes) lines.push(md`Keepalive probes seen: ${m.keepaliveProbes}`);
  if (m.retransmissions) lines.push(md`Retransmissions seen: ${m.retransmissions}`);
  if (m.zeroWindowProbes) lines.push(md`Zero-window probes seen: ${m.zeroWindowProbes}`);
  if (m.othersMaxLatencyMs !== undefined) {
    lines.push(
      md`Other clients: max latency ${formatMs(m.othersMaxLatencyMs)}, ${
        m.othersTimeouts ?? 0
      } unanswered`,
    );
  }
  if (m.serverExit) {
    lines.push(
      md`Server process ended: ${
        m.serverExit.signal ? `killed by ${m.serverExit.signal}` : `exit code ${m.serverExit.code}`
      }`,
    );
  }
  if (m.churnOpened !== undefined) {
    const refused = m.churnRefused
      ? md`, ${m.churnRefused} refused or dropped at once by the server`
      : md``;
    lines.push(md`Churn: ${m.churnOpened} clients connected${refused}`);
  }
  if (m.fdsBefore !== undefined && m.fdsAfter !== undefined) {
    lines.push(md`Server fds: ${m.fdsBefore} before, ${m.fdsAfter} after`);
  }
  if (m.rssKbBefore !== undefined && m.rssKbAfter !== undefined) {
    lines.push(md`Server RSS: ${m.rssKbBefore} KiB before, ${m.rssKbAfter} KiB after`);
  }
  return lines;
}

function predictionLine(p: Prediction): Markdown {
  const when = p.releaseMs === null
    ? md`never released`
    : md`released ${formatMs(p.releaseMs)} after the ${p.from.replaceAll("-", " ")}`;
  const tolerance = p.toleranceMs
    ? md` (tolerance ${formatMs(p.toleranceMs.early)} early, ${formatMs(p.toleranceMs.late)} late)`
    : md``;
  const situation = p.situation ? md`; situation: ${p.situation}` : md``;
  return md`Prediction (from the socket options and the namespace's sysctls, not measured): ${when} by ${p.mechanism}${tolerance}${situation}`;
}

/** A collapsed block: a summary (escaped as HTML) and Markdown inside. */
function details(summary: string, body: Markdown): Markdown[] {
  return [
    md`<details><summary>${htmlText(summary)}</summary>`,
    md``,
    body,
    md``,
    md`</details>`,
    md``,
  ];
}

function scenarioSection(s: ScenarioResult): Markdown {
  const parts: Markdown[] = [
    md`### ${heading(s)}`,
    md``,
    md`> ${blockText(s.requirement)}`,
    md``,
    md`**Level** ${s.level} · **Phase** ${s.phase} · **References** ${
      joinMd(s.refs, "; ")
    } · **Verdict** ${badge(s.verdict)}`,
    md``,
  ];
  const measured = measuredLines(s);
  if (measured.length) parts.push(...measured.map((l) => md`- ${l}`), md``);
  if (s.expectations.length) {
    parts.push(
      table(
        ["Expectation", "Verdict", "Measured"],
        s.expectations.map((e) => [
          e.expectation,
          badge(e.verdict),
          e.predicted ? `${e.measured} (predicted)` : e.measured,
        ]),
      ),
      md``,
    );
  }
  if (s.socketOptions) {
    const o = s.socketOptions;
    parts.push(
      md`Server socket options (read with pidfd_getfd + getsockopt): SO_KEEPALIVE ${
        o.keepalive ? "on" : "off"
      }, TCP_KEEPIDLE ${o.keepIdleS} s, TCP_KEEPINTVL ${o.keepIntvlS} s, TCP_KEEPCNT ${o.keepCnt}, TCP_USER_TIMEOUT ${
        o.userTimeoutMs ? `${o.userTimeoutMs} ms` : "0 (off)"
      }`,
      md``,
    );
  }
  if (s.prediction) parts.push(predictionLine(s.prediction), md``);
  if (s.notes) parts.push(blockText(s.notes), md``);
  if (s.recommendation) parts.push(md`**Recommendation:** ${s.recommendation}`, md``);
  if (s.server?.stderrTail) {
    parts.push(...details("Server stderr (tail)", codeBlock(s.server.stderrTail)));
  }
  if (s.server?.log) parts.push(...details("Server log (tail)", codeBlock(s.server.log)));
  if (s.evidence.length) parts.push(...details("Timeline", mermaidTimeline(s.evidence)));
  return lines(parts);
}

function knobsSection(knobs: Record<string, string> | undefined): Markdown[] {
  const entries = Object.entries(knobs ?? {});
  if (!entries.length) return [];
  return [
    md`## Knobs`,
    md``,
    md`The settings that decide how this server treats dead clients, as the target sets them:`,
    md``,
    table(["Knob", "Setting"], entries),
    md``,
  ];
}

function interruptedLine(env: Results["environment"]): Markdown[] {
  const i = env.interrupted;
  if (!i) return [];
  return [
    md`**Interrupted** by ${i.signal}: ${i.finished} of ${i.planned} scenarios finished; the rest were not run.`,
    md``,
  ];
}

/** The whole report for one target. */
export function renderTargetReport(results: Results): string {
  const { target, environment: env, scenarios } = results;
  const counts = verdictCounts(scenarios);
  const title = target.title ? `${target.title} (${target.id})` : target.id;
  return lines([
    md`# clientdown conformance report: ${title}`,
    md``,
    table(["", ""], [
      ["Target", `${target.id} ${target.version}`],
      ["Kernel", env.kernel],
      ["Date", env.startedAt],
      ["Deadline per scenario", formatMs(env.deadlineMs)],
      ["Concurrency", String(env.concurrency)],
      ["Wall time", formatMs(env.durationMs)],
      ["clientdown", env.clientdown],
    ]),
    md``,
    ...interruptedLine(env),
    ...knobsSection(target.knobs),
    md`## Summary`,
    md``,
    table(
      [...summaryVerdicts(counts).map(badge), "MUST passed", "SHOULD passed"],
      [[
        ...summaryVerdicts(counts).map((v) => String(counts[v])),
        score(scenarios, "MUST"),
        score(scenarios, "SHOULD"),
      ]],
    ),
    md``,
    table(
      ["Scenario", "Level", "Verdict", "Key figure"],
      scenarios.map((s) => [
        link(s.id, `#${anchor(heading(s))}`),
        s.level,
        badge(s.verdict),
        keyFigure(s),
      ]),
    ),
    md``,
    md`## Scenarios`,
    md``,
    ...scenarios.map(scenarioSection),
  ]).toString();
}
