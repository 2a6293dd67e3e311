import assert from "node:assert/strict";
import { doctorChecks } from "./doctor.ts";

Deno.test("doctor reports every program and probed feature, a missing one as 'no' with its reason", async () => {
  const checks = await doctorChecks();
  const by = (name: string) => checks.find((c) => c.check === name);
  assert.equal(by("root")?.ok, true);
  for (const program of ["ip (iproute2)", "nft (nftables)", "tcpdump (tcpdump)"]) {
    assert(by(program), program);
  }
  // This kernel has no sch_netem: doctor must say so, with the kernel's words, not fail.
  const netem = by("netem");
  assert(netem);
  if (!netem.ok) assert.match(netem.detail, /netem/);
  assert(checks.filter((c) => c.section === "features").length >= 10);
});
