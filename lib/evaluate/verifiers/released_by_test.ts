import assert from "node:assert/strict";
import { releasedByVerifier as v } from "./released_by.ts";
import { facts } from "./testdata/facts.ts";

const ownTimeout = v.build({ how: ["server-fin", "server-rst"], within: "2m" });

Deno.test("released-by: released in time by a named mechanism", () => {
  const j = v.judge(
    ownTimeout,
    facts(() => {}, { measurements: { releaseMs: 75_100, releasedHow: "server-fin" } }),
  );
  assert.deepEqual(j, {
    met: true,
    actual: "after 75.1 s, by server-fin",
    found: { ms: 75_100, how: "server-fin" },
  });
});

Deno.test("released-by: in time, but by a kernel timer the expectation does not accept", () => {
  const j = v.judge(
    ownTimeout,
    facts(() => {}, { measurements: { releaseMs: 5100, releasedHow: "keepalive-timeout" } }),
  );
  assert.equal(j.met, false);
  assert.match(j.actual, /but by keepalive-timeout$/);
  assert.match(v.advice(ownTimeout, facts()), /application timeout/);
});

Deno.test("released-by: its parameters are checked", () => {
  assert.equal(v.check(ownTimeout), undefined);
  assert.equal(v.check({ ...ownTimeout, how: [] })?.field, "how");
  assert.equal(v.check({ ...ownTimeout, how: ["never"] })?.field, "how");
  assert.equal(v.check({ ...ownTimeout, within: "soon" })?.field, "within");
});
