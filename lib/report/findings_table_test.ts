import assert from "node:assert/strict";
import { SAMPLE } from "./testdata/sample_results.ts";
import { FINDINGS_MARKERS, findingsTable, withFindings } from "./findings_table.ts";

Deno.test("findings: one row per target, between the markers, nothing else touched", () => {
  const table = findingsTable([SAMPLE]).toString();
  assert.equal(table.split("\n").length, 3);
  assert.match(table, /^\| Server \| Idle \| Mid-response \| Stopped reading \| Others served \|/);
  const readme = `# x\n\n${FINDINGS_MARKERS.start}\nold\n${FINDINGS_MARKERS.end}\n\nafter\n`;
  const out = withFindings(readme, [SAMPLE]);
  assert.ok(out.startsWith(`# x\n\n${FINDINGS_MARKERS.start}\n\n| Server`));
  assert.ok(out.endsWith(`${FINDINGS_MARKERS.end}\n\nafter\n`));
  assert.ok(!out.includes("old"));
  assert.throws(() => withFindings("# no markers\n", [SAMPLE]), SyntaxError);
});
