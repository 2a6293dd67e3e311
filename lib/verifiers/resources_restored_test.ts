import assert from "node:assert/strict";
import { resourcesRestoredVerifier as v } from "./resources_restored.ts";
import { facts } from "./testdata/facts.ts";

const sample = (fds: number, rssKiB: number) => ({ at: 0, alive: true, fds, rssKiB });

Deno.test("resources-restored: fds exact, RSS within 1.5 × + 16 MiB", () => {
  const back = facts((obs) =>
    [obs.server.before, obs.server.after] = [sample(10, 1000), sample(10, 17_000)]
  );
  assert.equal(v.judge(v.build(), back).met, true);
  const leaked = facts((obs) =>
    [obs.server.before, obs.server.after] = [sample(10, 1000), sample(11, 1000)]
  );
  assert.equal(v.judge(v.build(), leaked).met, false);
  assert.deepEqual(v.judge(v.build(), facts()), { met: false, actual: "server process gone" });
  assert.equal(
    v.settled(v.build(), { faultAt: 0, socket: [], fds: { now: 10, atFault: 10 } }),
    true,
  );
});
