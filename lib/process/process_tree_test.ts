import assert from "node:assert/strict";
import { spawn } from "./spawn.ts";
import { processTree } from "./process_tree.ts";

Deno.test("processTree finds a process's children and grandchildren", async () => {
  const parent = spawn(["sh", "-c", "sleep 30 & sh -c 'sleep 30 & wait' & wait"]);
  try {
    // The shells fork as they start; give them a moment (bounded: 2 s).
    let tree: number[] = [];
    for (let i = 0; i < 200 && tree.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 10));
      tree = processTree(parent.pid);
    }
    assert.equal(tree[0], parent.pid);
    assert.equal(tree.length, 4, `sh, sleep, sh, sleep: ${tree}`);
  } finally {
    for (const pid of processTree(parent.pid).slice(1).reverse()) Deno.kill(pid, "SIGKILL");
    await parent.end();
  }
});
