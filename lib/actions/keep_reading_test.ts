import assert from "node:assert/strict";
import { HarnessError, NotApplicable } from "./action.ts";
import { keepReadingAction } from "./keep_reading.ts";
import { fakeContext, NO_LARGE_TARGET } from "./testdata/fake_context.ts";

// Its slow link is the slow-link fault's, tested in a real lab (lib/faults/slow_link_test.ts);
// the freeze and vanish suites' mid-response scenarios run it end to end.
Deno.test("keep-reading needs a connection and a large response, before shaping anything", async () => {
  const target = NO_LARGE_TARGET;
  const none = fakeContext({ context: { target } });
  await assert.rejects(keepReadingAction.run(none.ctx, { kind: "keep-reading" }), NotApplicable);
  const unconnected = fakeContext({ context: { conn: undefined } });
  await assert.rejects(
    keepReadingAction.run(unconnected.ctx, { kind: "keep-reading" }),
    HarnessError,
  );
  assert.deepEqual(none.calls, []);
  assert.equal(keepReadingAction.actor({ kind: "keep-reading" }), "client");
});
