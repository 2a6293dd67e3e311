import assert from "node:assert/strict";
import type { Verdict } from "../results/schema.ts";
import { makeResults, makeScenario } from "../results/testdata/make_results.ts";
import { familyOf, renderJunit, xmlEscape } from "./junit.ts";
import { elements, parseXml } from "./testdata/parse_xml.ts";

const VERDICT_OF: Record<string, Verdict> = {
  "fin/idle": "pass",
  "fin/mid-request": "info",
  "rst/idle": "warn",
  "rst/mid-request": "fail",
  "vanish/idle": "skip",
  "vanish/mid-request": "inconclusive",
  "vanish/mid-response": "error",
  "crash/idle": "interrupted",
};

Deno.test("JUnit: one testsuite per target, one testcase per scenario, classname = family; the mapping of every verdict", () => {
  const xml = renderJunit([makeResults("ref-naive", VERDICT_OF), makeResults("nginx", VERDICT_OF)]);
  const root = parseXml(xml);
  assert.equal(root.name, "testsuites");
  assert.deepEqual(
    [
      root.attributes.tests,
      root.attributes.failures,
      root.attributes.errors,
      root.attributes.skipped,
    ],
    ["16", "2", "2", "6"],
  );
  const suites = elements(root, "testsuite");
  assert.deepEqual(suites.map((s) => s.attributes.name), ["ref-naive 1.0.0", "nginx 1.0.0"]);
  const cases = elements(suites[0]!, "testcase");
  assert.deepEqual(cases.map((c) => c.attributes.name), Object.keys(VERDICT_OF));
  assert.deepEqual(cases.map((c) => c.attributes.classname), Object.keys(VERDICT_OF).map(familyOf));
  assert.equal(cases[0]!.attributes.time, "5.600");
  const outcome = (c: (typeof cases)[number]) =>
    c.children.filter((e) => e.name !== "system-out" && e.name !== "system-err")
      .map((e) => `${e.name}:${e.attributes.message?.split(":")[0]}`).join(",") || "passed";
  assert.deepEqual(Object.fromEntries(cases.map((c) => [c.attributes.name, outcome(c)])), {
    "fin/idle": "passed",
    "fin/mid-request": "passed",
    "rst/idle": "passed",
    "rst/mid-request": "failure:fail",
    "vanish/idle": "skipped:skip",
    "vanish/mid-request": "skipped:inconclusive",
    "vanish/mid-response": "error:error",
    "crash/idle": "skipped:interrupted",
  });
  // A warn passes (as the exit code does) but says what SHOULD was broken.
  assert.match(elements(cases[2]!, "system-out")[0]!.text, /^verdict: warn$/m);
});

Deno.test("JUnit: hostile text from a target, a server or a results file is escaped and the XML still parses", () => {
  const hostile =
    `</testcase><testcase name="x">]]><!-- & " ' \u0000\u0007\u001b[31m \uD800 lone surrogate\n<script>alert(1)</script>`;
  const results = makeResults("ref-naive", {});
  results.target.version = hostile;
  results.environment.kernel = hostile;
  results.scenarios = [
    makeScenario("rst/idle", "fail", {
      notes: hostile,
      recommendation: hostile,
      expectations: [{
        kind: "released",
        expectation: hostile,
        level: "MUST",
        verdict: "fail",
        measured: hostile,
      }],
      server: { stderrTail: hostile, log: hostile },
    }),
  ];
  const root = parseXml(renderJunit([results]));
  const cases = elements(root, "testcase");
  assert.equal(cases.length, 1);
  const failure = elements(cases[0]!, "failure")[0]!;
  assert.match(failure.attributes.message!, /^fail: <\/testcase><testcase name="x">/);
  assert.match(failure.text, /<script>alert\(1\)<\/script>/);
  assert.match(elements(cases[0]!, "system-err")[0]!.text, /\uFFFD\uFFFD\uFFFD\[31m \uFFFD lone/);
  assert.equal(
    elements(root, "testsuite")[0]!.attributes.name,
    `ref-naive </testcase><testcase name="x">]]><!-- & " ' \uFFFD\uFFFD\uFFFD[31m \uFFFD lone surrogate\n<script>alert(1)</script>`,
  );
});

Deno.test("xmlEscape leaves ordinary text and pairs of surrogates alone", () => {
  assert.equal(xmlEscape("vanish/idle ✅ 😀 \t\n"), "vanish/idle ✅ 😀 \t\n");
  assert.equal(xmlEscape(`a&b<c>"d'`), "a&amp;b&lt;c&gt;&quot;d&apos;");
});
