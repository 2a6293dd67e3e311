import assert from "node:assert/strict";
import { FAULT_NAMES, faultNamed, FAULTS, faultSteps } from "./registry.ts";

Deno.test("every fault is found by its name, and its builder makes checked parameters", () => {
  assert.equal(new Set(FAULT_NAMES).size, Object.keys(FAULTS).length);
  for (const fault of Object.values(FAULTS)) assert.equal(faultNamed(fault.name), fault);
  assert.equal(faultNamed("nosuch"), undefined);
  assert.deepEqual(faultSteps.nat("4m", "drop"), { name: "nat", timeout: "4m", strays: "drop" });
  assert.equal(FAULTS.nat.check({ timeout: "4m", strays: "drop" }), undefined);
  assert.deepEqual(FAULTS.nat.check({ timeout: "500ms", strays: "drop" }), {
    field: "timeout",
    expected: "at least 1s (conntrack counts seconds)",
  });
  assert.deepEqual(FAULTS.nat.needs({ timeout: "4m", strays: "rst" }), [
    "nft",
    "nat",
    "conntrackTimeout",
    "rejectTcpReset",
  ]);
  assert.equal(FAULTS.slowLink.check({ rateKbit: 4 })?.field, "rateKbit");
  assert.deepEqual(faultSteps.icmpUnreachable(), {
    name: "icmp-unreachable",
    kind: "host-unreachable",
  });
});

Deno.test("which faults take the client down: the first one is the fault moment", () => {
  const down = Object.values(FAULTS).filter((f) => f.takesClientDown).map((f) => f.name);
  assert.deepEqual(down.sort(), [
    "icmp-unreachable",
    "nat-expire",
    "reboot",
    "reset-from-host",
    "vanish",
    "vanish-after-syn",
  ]);
});

Deno.test("who acts in each fault, and which one's moment the capture tells", () => {
  const byHost = Object.values(FAULTS).filter((f) => f.actor === "client-host").map((f) => f.name);
  assert.deepEqual(byHost, ["reset-from-host"]);
  const bySegment = Object.values(FAULTS).filter((f) => f.endsWithSegment).map((f) => f.name);
  assert.deepEqual(bySegment, ["reset-from-host"]);
});
