import assert from "node:assert/strict";
import { resourcesRestoredVerifier as v } from "./resources_restored.ts";
import { facts } from "./testdata/facts.ts";

const sample = (clientConnections: number, rssKiB: number, fds = 10, extraRssKiB = 0) => ({
  at: 0,
  alive: true,
  fds,
  rssKiB: rssKiB + extraRssKiB,
  clientConnections,
  processes: [
    { pid: 100, rssKiB },
    ...(extraRssKiB ? [{ pid: 101, rssKiB: extraRssKiB }] : []),
  ],
});

Deno.test("resources-restored: client connections exact, RSS within 1.5 × + 16 MiB", () => {
  const back = facts((obs) =>
    [obs.server.before, obs.server.after] = [sample(1, 1000), sample(1, 17_000)]
  );
  assert.equal(v.judge(v.build(), back).met, true);
  const leaked = facts((obs) =>
    [obs.server.before, obs.server.after] = [sample(1, 1000), sample(2, 1000)]
  );
  assert.deepEqual(v.judge(v.build(), leaked), {
    met: false,
    actual: "client connections 1 → 2, RSS 1000 → 1000 KiB, fds 10 → 10",
  });
  assert.deepEqual(v.judge(v.build(), facts()), { met: false, actual: "server process gone" });
  const settled = (now: number, nowKiB = 1000) =>
    v.settled(v.build(), {
      faultAt: 0,
      socket: [],
      clientConnections: { now, atFault: 1 },
      memory: { nowKiB, atFaultKiB: 1000 },
    });
  assert.deepEqual([settled(1), settled(2)], [true, false]);
  // The connections are back, the memory not yet (1.5 × 1000 + 16384 KiB at most): watched on.
  assert.deepEqual([settled(1, 17_884), settled(1, 17_885)], [true, false]);
});

Deno.test("resources-restored: a worker process started meanwhile adds fds, not a leak", () => {
  // apache2's event MPM after 500 clients (measured): children started meanwhile, 34 → 82 fds,
  // RSS 14156 → 39520 KiB, no client connection left.
  const grown = facts((obs) =>
    [obs.server.before, obs.server.after] = [sample(0, 14_156, 34), sample(0, 14_300, 82, 25_220)]
  );
  assert.deepEqual(v.judge(v.build(), grown), {
    met: true,
    actual: "client connections 0 → 0, RSS 14156 → 14300 KiB, fds 34 → 82 " +
      "(1 process(es) started meanwhile, not counted)",
  });
});
