import assert from "node:assert/strict";
import { defineTarget, TargetDefinitionError } from "./define_target.ts";
import { needsRoot } from "./rootless.ts";
import refHardened from "../../targets/ref_hardened.ts";
import nginx from "../../targets/nginx.ts";

Deno.test("a target that switches user needs root, named; the reference servers do not", () => {
  assert.equal(needsRoot(refHardened), undefined);
  assert.match(needsRoot(nginx) ?? "", /switches to the user "www-data"/);
});

Deno.test("runsAs must name a user", () => {
  assert.throws(
    () => defineTarget({ ...refHardened, runsAs: "" }),
    (e: Error) =>
      e instanceof TargetDefinitionError && /field "runsAs" must be a user name/.test(e.message),
  );
});
