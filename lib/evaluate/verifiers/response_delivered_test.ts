import assert from "node:assert/strict";
import { responseDeliveredVerifier as v } from "./response_delivered.ts";
import { facts } from "./testdata/facts.ts";

Deno.test("response-delivered: the read found the whole response, or not", () => {
  const read = facts((obs) => obs.exchanges.response = { found: true, bytes: 42 });
  assert.deepEqual(v.judge(v.build(), read), { met: true, actual: "42 bytes" });
  const cut = facts((obs) => obs.exchanges.response = { found: false, bytes: 3, error: "EOF" });
  assert.deepEqual(v.judge(v.build(), cut), { met: false, actual: "EOF" });
});
