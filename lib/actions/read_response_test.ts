import assert from "node:assert/strict";
import { readResponseAction } from "./read_response.ts";
import { fakeContext } from "./testdata/fake_context.ts";

Deno.test("read-response returns what it read as evidence, found or not, and why not", async () => {
  const found = await readResponseAction.run(fakeContext().ctx, { kind: "read-response" });
  assert.deepEqual(found.response, { found: true, bytes: 5 });
  assert.equal(found.records[0]?.ok, true);
  const { ctx } = fakeContext({
    answers: {
      read: () => ({ ok: false, t: 12, error: "ECONNRESET", message: "", bytes: 3, found: false }),
    },
  });
  const reset = await readResponseAction.run(ctx, { kind: "read-response" });
  assert.deepEqual(reset.response, { found: false, bytes: 3, error: "ECONNRESET" });
  assert.deepEqual(reset.records[0], {
    actor: "client",
    action: "read-response",
    t: 12,
    ok: false,
    traffic: true,
    error: "ECONNRESET",
  });
  // The server closed its side first: the step and the evidence say so.
  const closed = await readResponseAction.run(
    fakeContext({
      answers: {
        read: () => ({ ok: true, t: 9, bytes: 0, found: false, eof: true, head: "" }),
      },
    }).ctx,
    { kind: "read-response" },
  );
  const said = "the server closed its side after 0 byte(s), before the end of the response";
  assert.deepEqual(closed.response, { found: false, bytes: 0, error: said });
  assert.equal(closed.records[0]?.error, said);
});
