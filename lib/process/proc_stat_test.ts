import assert from "node:assert/strict";
import { spawn } from "./spawn.ts";
import { readProcStat } from "./proc_stat.ts";

Deno.test("readProcStat reads a child's name, state, parent and start, whatever its name holds", async () => {
  const dir = await Deno.makeTempDir();
  const name = `${dir}/a b) c`;
  await Deno.symlink("/bin/sleep", name);
  const child = spawn([name, "30"]);
  try {
    const stat = readProcStat(child.pid);
    assert.ok(stat);
    assert.equal(stat.name, "a b) c");
    assert.match(stat.state, /^[RSD]$/);
    assert.equal(stat.ppid, Deno.pid);
    assert.ok(stat.startTicks > 0 && stat.startTicks >= readProcStat(Deno.pid)!.startTicks);
  } finally {
    await child.end();
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(readProcStat(child.pid), undefined);
});
