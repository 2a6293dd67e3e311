import assert from "node:assert/strict";
import { run } from "../process/spawn.ts";
import { capabilities, CAPABILITY_NAMES } from "./capabilities.ts";

Deno.test("capabilities returns a full record, probed once, and removes its scratch namespace", async () => {
  const first = await capabilities();
  console.log(
    CAPABILITY_NAMES.map((n) => `  ${n}: ${first[n].supported ? "yes" : "no"} (${first[n].reason})`)
      .join("\n"),
  );
  assert.deepEqual(Object.keys(first).sort(), [...CAPABILITY_NAMES].sort());
  for (const name of CAPABILITY_NAMES) assert.ok(first[name].reason, `"${name}" has a reason`);
  assert.equal(await capabilities(), first, "cached for the process");
  const namespaces = (await run(["ip", "netns", "list"])).stdout;
  assert.doesNotMatch(namespaces, new RegExp(`^cd-probe-${Deno.pid}\\b`, "m"));
});

Deno.test("capabilities reports netem unsupported in the kernel's own words", async () => {
  const { netem, tbf, htb } = await capabilities();
  // This project's kernel has tbf and htb but no sch_netem (DESIGN.md, "The lab").
  assert.equal(tbf.supported, true, tbf.reason);
  assert.equal(htb.supported, true, htb.reason);
  assert.equal(netem.supported, false);
  assert.match(netem.reason, /netem/);
  assert.match(netem.reason, /Error: Specified qdisc kind is unknown/);
});
