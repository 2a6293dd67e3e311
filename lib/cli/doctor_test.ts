import assert from "node:assert/strict";
import { doctor, doctorChecks, verdictLine } from "./doctor.ts";

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

Deno.test("doctor without nft: exit 3, and its last line names the one command that installs it", async () => {
  let out = "";
  let err = "";
  const code = await doctor({
    root: false,
    lookup: (program) =>
      program === "nft" || program === "tcpdump" ? undefined : `/usr/bin/${program}`,
    out: (text) => out += text,
    err: (text) => err += text,
  });
  assert.equal(code, 3);
  assert.match(out, /nft \(nftables\) \| no +\| missing \(drops, NAT, ICMP rejects\)/);
  assert.equal(
    err,
    'The lab cannot run here: root, nft missing; "sudo npx -y deno@2.9.6 task setup" installs ' +
      "nftables tcpdump (certify and test install them on first use too)\n",
  );
});

Deno.test("doctor's verdict: an optional program missing still lets the lab run, and says what installs it", async () => {
  const checks = await doctorChecks({
    root: false,
    lookup: (program) => program === "tcpdump" ? undefined : `/usr/bin/${program}`,
  });
  const asRoot = checks.map((c) => c.check === "root" ? { ...c, ok: true } : c);
  assert.deepEqual(verdictLine(asRoot), {
    line: 'The lab can run here, without tcpdump (what needs it is skipped); "npx -y deno@2.9.6 ' +
      'task setup" installs tcpdump (certify and test install them on first use too)',
    canRun: true,
  });
  const all = asRoot.map((c) => ({ ...c, ok: true }));
  assert.deepEqual(verdictLine(all), { line: "The lab can run here", canRun: true });
});
