import assert from "node:assert/strict";
import { mapPool } from "./pool.ts";

Deno.test("mapPool keeps order and never runs more than the limit at once", async () => {
  let running = 0, most = 0;
  const out = await mapPool([5, 1, 4, 2, 3], 2, async (n) => {
    most = Math.max(most, ++running);
    await new Promise((r) => setTimeout(r, n));
    running--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(most, 2);
});
