import assert from "node:assert/strict";
import { README_PATH, readmeWithFindings } from "./readme_findings.ts";

Deno.test("the README's findings table is the one the published results make", async () => {
  assert.equal(
    await Deno.readTextFile(README_PATH),
    await readmeWithFindings(),
    "README.md is stale: run `deno task findings`",
  );
});
