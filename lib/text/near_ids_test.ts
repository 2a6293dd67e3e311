import assert from "node:assert/strict";
import { editDistance, nearIds } from "./near_ids.ts";

Deno.test("editDistance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("vanish", "vanish"), 0);
  assert.equal(editDistance("vansih", "vanish"), 2);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

Deno.test("nearIds puts ids it begins first, then its family, then the closest, and always gives some", () => {
  const known = [
    "fin",
    "fin/idle",
    "rst",
    "rst/idle",
    "vanish",
    "vanish/idle",
    "vanish/mid-request",
  ];
  assert.deepEqual(nearIds("vanish/mid", known, 3), [
    "vanish/mid-request",
    "vanish/idle",
    "vanish",
  ]);
  assert.deepEqual(nearIds("rts", known, 1), ["rst"]);
  assert.equal(nearIds("zzzzzzzzzzzz", known, 3).length, 3);
});
