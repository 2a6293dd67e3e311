import assert from "node:assert/strict";
import { EXPECTATION_KINDS, expectations, verifierOf, VERIFIERS } from "./registry.ts";

Deno.test("every verifier is found by its kind, builds its own kind and describes it", () => {
  assert.equal(new Set(EXPECTATION_KINDS).size, Object.keys(VERIFIERS).length);
  for (const [name, verifier] of Object.entries(VERIFIERS)) {
    assert.equal(verifierOf(verifier.kind), verifier);
    // Every parameter any builder takes, so that each builds a valid expectation.
    const build = expectations[name as keyof typeof expectations] as (
      o: { within: string; how: string[] },
    ) => { kind: string };
    const e = build({ within: "1s", how: ["server-fin"] });
    assert.equal(e.kind, verifier.kind, name);
    assert.ok(verifier.describe(e as never).length > 0);
    assert.equal(verifier.check(e as never), undefined);
  }
  assert.equal(verifierOf("nosuch"), undefined);
});
