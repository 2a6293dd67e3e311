/**
 * `reports/<target>.md`: the conformance report a server author publishes. Reads only the
 * results JSON, so `report` rebuilds it byte for byte without a lab.
 *
 * @module
 */

import type { Results, ScenarioResult, Verdict } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import {
  badge,
  icon,
  keyFigure,
  legend,
  releasedHow,
  table,
  VERDICT_ORDER,
} from "./markdown_parts.ts";
import { exitStatement, type OutcomeContext, predictionSentences, releasedBy } from "./outcome.ts";
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
  const counts = Object.fromEntries(VERDICT_ORDER.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const s of scenarios) counts[s.verdict]++;
  return counts;
}

/**
 * The verdicts a summary shows, in the one verdict order: all but `interrupted`, which shows
 * only when it occurred.
 */
export function summaryVerdicts(counts: Record<Verdict, number>): Verdict[] {
  return VERDICT_ORDER.filter((v) => v !== "interrupted" || counts[v] > 0);
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

/**
 * A scenario's heading: its id alone, so its anchor ("vanishidle") is as stable as the id and
 * the index's links stay short; the title follows on its own line.
 */
function heading(s: ScenarioResult): string {
  return s.id;
}

/** The anchor of a scenario's section in its target's report (without "#"). */
export function scenarioAnchor(s: ScenarioResult): string {
  return anchor(heading(s));
}

function measuredLines(s: ScenarioResult): Markdown[] {
  const m = s.measurements;
  const lines: Markdown[] = [];
  if (m.releaseMs !== undefined) {
    const since = m.releaseSinceLastTrafficMs !== undefined
      ? md` (${formatMs(m.releaseSinceLastTrafficMs)} after the last traffic)`
      : md``;
    const by = releasedBy(m.releasedHow);
    const when = m.releasedBeforeFault
      ? "Closed before the fault"
      : `Released ${formatMs(m.releaseMs)} after the fault`;
    lines.push(md`${when}${since}${by ? ` ${by}` : ""}`);
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
  if (m.serverExit) {
    const exit = exitStatement(s);
    lines.push(md`${exit[0]!.toUpperCase()}${exit.slice(1)}`);
  }
  if (m.churnOpened !== undefined) {
    const refused = m.churnRefused
      ? md`, ${m.churnRefused} refused or dropped at once by the server`
      : md``;
    lines.push(md`Churn: ${m.churnOpened} clients connected${refused}`);
  }
  if (m.clientConnectionsBefore !== undefined && m.clientConnectionsAfter !== undefined) {
    lines.push(
      md`Server's client connections: ${m.clientConnectionsBefore} before, ${m.clientConnectionsAfter} after`,
    );
  }
  if (m.fdsBefore !== undefined && m.fdsAfter !== undefined) {
    lines.push(md`Server fds: ${m.fdsBefore} before, ${m.fdsAfter} after`);
  }
  if (m.rssKbBefore !== undefined && m.rssKbAfter !== undefined) {
    lines.push(md`Server RSS: ${m.rssKbBefore} KiB before, ${m.rssKbAfter} KiB after`);
  }
  return lines;
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
    md`**${oneLine(s.title).trim()}**`,
    md``,
    md`> ${blockText(s.requirement)}`,
    md``,
    md`**Level** ${s.level} · **Phase** ${s.phase} · **References** ${
      joinMd(s.refs, "; ")
    } · **Verdict** ${badge(s.verdict)}`,
    md``,
  ];
  const notes = s.notes.trim();
  const measured = measuredLines(s);
  if (measured.length) parts.push(...measured.map((l) => md`- ${l}`), md``);
  if (s.expectations.length) {
    parts.push(
      table(
        ["Expectation", "Level", "Verdict", "Measured"],
        s.expectations.map((e) => [
          e.expectation,
          e.level,
          badge(e.verdict),
          e.measured,
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
  const prediction = predictionSentences(s);
  if (prediction) parts.push(blockText(prediction), md``);
  if (notes) parts.push(blockText(notes), md``);
  if (s.recommendation) parts.push(md`**Recommendation:** ${s.recommendation}`, md``);
  if (s.harnessNotes) {
    parts.push(
      md`> **Harness note** (trouble of the test harness itself; it says nothing about the server): ${s.harnessNotes}`,
      md``,
    );
  }
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

/** The budgets of the requirements in these results, as written ("1 s", "11 min"), in order. */
function budgets(scenarios: readonly ScenarioResult[]): string[] {
  const seen = new Map<string, number>();
  for (const s of scenarios) {
    for (const e of s.expectations) {
      if ((e.kind !== "released" && e.kind !== "released-by") || e.budgetMs === undefined) continue;
      seen.set(formatMs(e.budgetMs), e.budgetMs);
    }
  }
  return [...seen].sort((a, b) => a[1] - b[1]).map(([b]) => b);
}

/** How the three time limits relate, in one paragraph. */
function timeLimits(results: Results): Markdown {
  const deadline = formatMs(results.environment.deadlineMs);
  const all = budgets(results.scenarios);
  const example = all.at(-1) ?? "11 min";
  const list = all.length > 1 ? ` (budgets here: ${all.join(", ")})` : "";
  return md`**Three time limits.** A *budget* belongs to a requirement, e.g. "released within ${example}"${list}: what the server must achieve, counted from the fault. The *deadline*, ${deadline} in this run, is the longest a scenario was watched after the fault (a release is watched for until its budget is used up, at most the deadline). A *prediction* says what the kernel alone would do after the watch ended, computed from the server socket's options and the namespace's sysctls; it is labelled as such and is never a measurement. The server may act sooner, so a prediction is an upper bound: one within the budget shows a pass, and one past it leaves the verdict inconclusive (never a warn or a fail).`;
}

/** The whole report for one target. */
export function renderTargetReport(results: Results): string {
  const { target, environment: env, scenarios } = results;
  const counts = verdictCounts(scenarios);
  const shown = summaryVerdicts(counts);
  const ctx: OutcomeContext = { deadlineMs: env.deadlineMs };
  const withHarness = scenarios.filter((s) => s.harnessNotes);
  const server = target.title
    ? md`${target.title}, version ${target.version}`
    : md`version ${target.version}`;
  return lines([
    md`# clientdown conformance report: ${target.id}`,
    md``,
    md`- **Server:** ${server}`,
    md`- **Run:** ${env.startedAt}, kernel ${env.kernel}${
      env.kernelHz === undefined ? "" : md` (CONFIG_HZ=${env.kernelHz})`
    }${
      env.rootless ? ", rootless (a user namespace of its own)" : ""
    }, clientdown ${env.clientdown}, ${scenarios.length} scenarios, up to ${
      Math.min(env.concurrency, scenarios.length)
    } at once, wall time ${formatMs(env.durationMs)}`,
    md`- **Deadline per scenario:** ${formatMs(env.deadlineMs)}`,
    md``,
    timeLimits(results),
    md``,
    ...interruptedLine(env),
    ...knobsSection(target.knobs),
    md`## Summary`,
    md``,
    table(
      [...shown.map(icon), "MUST passed", "SHOULD passed"],
      [[
        ...shown.map((v) => String(counts[v])),
        score(scenarios, "MUST"),
        score(scenarios, "SHOULD"),
      ]],
    ),
    md``,
    legend({ interrupted: counts.interrupted > 0 }),
    md``,
    ...(withHarness.length
      ? [
        md`**Harness notes:** ${withHarness.length} of ${scenarios.length} scenarios ${
          withHarness.length === 1 ? "carries a note" : "carry notes"
        } on trouble of the test harness itself, shown under the scenario; ${
          withHarness.length === 1 ? "it says" : "they say"
        } nothing about the server.`,
        md``,
      ]
      : []),
    table(
      ["Scenario", "Level", "Verdict", "Key figure"],
      scenarios.map((s) => [
        link(s.id, `#${scenarioAnchor(s)}`),
        s.level,
        badge(s.verdict),
        keyFigure(s, ctx),
      ]),
    ),
    md``,
    md`## Scenarios`,
    md``,
    ...scenarios.map(scenarioSection),
  ]).toString();
}
