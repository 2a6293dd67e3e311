// The environment certifyTarget writes, without a lab: no scenario is run.
import assert from "node:assert/strict";
import hardened from "../../targets/ref_hardened.ts";
import { readKernelHz } from "../observe/kernel_hz.ts";
import { validateResults } from "../results/validate_results.ts";
import { certifyTarget } from "./certify_target.ts";

Deno.test("certifyTarget records the kernel's release and its CONFIG_HZ in the environment", async () => {
  const results = await certifyTarget(hardened, [], { deadlineMs: 1000, concurrency: 1 });
  assert.equal(results.environment.kernel, Deno.osRelease());
  assert.equal(results.environment.kernelHz, await readKernelHz());
  assert.equal(results.environment.kernelHz, 250); // this project's kernel
  assert.equal(validateResults(results).ok, true);
});
