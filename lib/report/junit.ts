/**
 * JUnit XML for CI systems: one `<testsuite>` per target, one `<testcase>` per scenario
 * (`classname` = the scenario's family, `name` = its id). The mapping follows the exit code
 * (suites/INTERPRETING.md, "JUnit XML"): only what fails a run fails a test case.
 *
 * | verdict        | JUnit                                              |
 * | -------------- | -------------------------------------------------- |
 * | `pass`, `info` | a passed test case                                 |
 * | `warn`         | a passed test case; the broken SHOULD in its output |
 * | `fail`         | `<failure type="fail">`                            |
 * | `error`        | `<error type="error">`                             |
 * | `skip`         | `<skipped message="skip: ...">`                    |
 * | `inconclusive` | `<skipped message="inconclusive: ...">`            |
 * | `interrupted`  | `<skipped message="interrupted: ...">`             |
 *
 * Every string from a target, a server or a results file is escaped, and characters XML 1.0
 * cannot carry (control characters, lone surrogates) are replaced, so the document always
 * parses.
 *
 * @module
 */

import type { Results, ScenarioResult } from "../results/schema.ts";

/** Characters XML 1.0 cannot carry, even escaped. */
const NOT_XML =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text made safe for XML character data or a double-quoted attribute. */
export function xmlEscape(text: string): string {
  return text
    .replace(NOT_XML, "\uFFFD")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** An attribute value: escaped, with line breaks and tabs kept as character references. */
function attr(text: string): string {
  return `"${
    xmlEscape(text).replaceAll("\r", "&#13;").replaceAll("\n", "&#10;").replaceAll("\t", "&#9;")
  }"`;
}

/** The family of a scenario id: what comes before its first "/". */
export function familyOf(id: string): string {
  return id.split("/")[0] ?? id;
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** What the scenario's verdict came from: its worst expectation, or its notes. */
function reason(s: ScenarioResult): string {
  const worst = s.expectations.find((e) => e.verdict === s.verdict);
  const text = worst ? `${worst.expectation}: ${worst.measured}` : s.notes.split("\n")[0] ?? "";
  return `${s.verdict}: ${text}`.slice(0, 500);
}

function details(s: ScenarioResult): string {
  const lines = [`${s.level}: ${s.requirement}`, `verdict: ${s.verdict}`];
  for (const e of s.expectations) {
    lines.push(`${e.verdict} ${e.expectation}: ${e.measured}`);
  }
  if (s.notes) lines.push(s.notes);
  if (s.recommendation) lines.push(`Recommendation: ${s.recommendation}`);
  return lines.join("\n");
}

function testcase(s: ScenarioResult): string[] {
  const open = `    <testcase name=${attr(s.id)} classname=${attr(familyOf(s.id))} time=${
    attr(seconds(s.durationMs))
  }>`;
  const body: string[] = [];
  if (s.verdict === "fail") {
    body.push(
      `      <failure message=${attr(reason(s))} type="fail">${xmlEscape(details(s))}</failure>`,
    );
  } else if (s.verdict === "error") {
    body.push(
      `      <error message=${attr(reason(s))} type="error">${xmlEscape(details(s))}</error>`,
    );
  } else if (s.verdict === "skip" || s.verdict === "inconclusive" || s.verdict === "interrupted") {
    body.push(`      <skipped message=${attr(reason(s))}/>`);
  }
  body.push(`      <system-out>${xmlEscape(details(s))}</system-out>`);
  if (s.server?.stderrTail) {
    body.push(`      <system-err>${xmlEscape(s.server.stderrTail)}</system-err>`);
  }
  return [open, ...body, "    </testcase>"];
}

function count(scenarios: readonly ScenarioResult[], ...verdicts: string[]): number {
  return scenarios.filter((s) => verdicts.includes(s.verdict)).length;
}

function totals(scenarios: readonly ScenarioResult[]): string {
  return `tests="${scenarios.length}" failures="${count(scenarios, "fail")}" errors="${
    count(scenarios, "error")
  }" skipped="${count(scenarios, "skip", "inconclusive", "interrupted")}"`;
}

function testsuite(r: Results): string[] {
  const name = `${r.target.id} ${r.target.version}`;
  const properties: [string, string][] = [
    ["target", r.target.id],
    ["version", r.target.version],
    ["kernel", r.environment.kernel],
    ["deadlineMs", String(r.environment.deadlineMs)],
    ["clientdown", r.environment.clientdown],
  ];
  return [
    `  <testsuite name=${attr(name)} ${totals(r.scenarios)} time=${
      attr(seconds(r.environment.durationMs))
    } timestamp=${attr(r.environment.startedAt.replace(/Z$/, ""))}>`,
    "    <properties>",
    ...properties.map(([k, v]) => `      <property name=${attr(k)} value=${attr(v)}/>`),
    "    </properties>",
    ...r.scenarios.flatMap(testcase),
    "  </testsuite>",
  ];
}

/**
 * The JUnit XML document of several targets' results.
 *
 * @example
 * ```ts ignore
 * import { renderJunit } from "./junit.ts";
 * await Deno.writeTextFile("clientdown.xml", renderJunit([results]));
 * ```
 */
export function renderJunit(all: readonly Results[]): string {
  const scenarios = all.flatMap((r) => r.scenarios);
  const time = all.reduce((max, r) => Math.max(max, r.environment.durationMs), 0);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="clientdown" ${totals(scenarios)} time=${attr(seconds(time))}>`,
    ...all.flatMap(testsuite),
    "</testsuites>",
    "",
  ].join("\n");
}
