import assert from "node:assert/strict";
import { Gate, mapPool } from "./pool.ts";

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

Deno.test("Gate lets only its slots through at once, in order", async () => {
  const gate = new Gate(2);
  let inside = 0, most = 0;
  const order: number[] = [];
  await Promise.all([1, 2, 3, 4, 5].map((n) =>
    gate.through(async () => {
      most = Math.max(most, ++inside);
      order.push(n);
      await new Promise((r) => setTimeout(r, 5));
      inside--;
    })
  ));
  assert.equal(most, 2);
  assert.deepEqual(order, [1, 2, 3, 4, 5]);
});
