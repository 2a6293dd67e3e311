import assert from "node:assert/strict";
import { run, spawn } from "../process/spawn.ts";
import { sweepStaleLabs } from "./sweep.ts";

const holder = new URL("./testdata/hold_lab.ts", import.meta.url).pathname;

Deno.test("a lab whose owner was killed with SIGKILL is swept, with the processes inside it", async () => {
  const owner = spawn([Deno.execPath(), "run", "-A", holder], { stdout: "piped" });
  const reader = owner.process.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  await owner.process.stdout.cancel();
  const held: { hosts: Record<string, string>; sleeper: number; dir: string } = JSON.parse(
    new TextDecoder().decode(value),
  );
  owner.signal("SIGKILL");
  assert.equal((await owner.status).signal, "SIGKILL");

  // The owner's lab outlives it until a sweep: that is what the sweep is for.
  const before = (await run(["ip", "netns", "list"])).stdout;
  assert(before.includes(held.hosts.server ?? "?"));

  const swept = await sweepStaleLabs();
  // Labs of other dead owners (an earlier killed run) may go in the same sweep.
  for (const name of Object.values(held.hosts)) {
    assert(swept.namespaces.includes(name), `"${name}" swept`);
  }
  const after = (await run(["ip", "netns", "list"])).stdout;
  for (const name of Object.values(held.hosts)) assert(!after.includes(name), `"${name}" removed`);
  // The sleeper got SIGKILL from the sweep; give the kernel a moment to reap it (bounded: 2 s).
  for (let i = 0; i < 200 && exists(`/proc/${held.sleeper}`); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert(!exists(`/proc/${held.sleeper}`), "the process inside the lab was ended");
  assert(!exists(held.dir), "the lab directory was removed");
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
