import assert from "node:assert/strict";
import { Gate } from "./pool.ts";

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
