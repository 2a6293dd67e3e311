import assert from "node:assert/strict";
import { startServer, tryConnect } from "../faults/testdata/fixture.ts";
import { run } from "../process/spawn.ts";
import { BYSTANDER, SERVER } from "./address_plan.ts";
import { createLab } from "./lab.ts";

/** Each lab link as `ip -o link` shows it in its namespace: index, peer's index, state. */
async function links(ns: string): Promise<{ name: string; index: number; peer: number }[]> {
  const { stdout } = await run(["ip", "-o", "link", "show", "type", "veth"], { netns: ns });
  return stdout.trim().split("\n").map((line) => {
    const m = /^(\d+): (\w+)@if(\d+):/.exec(line);
    assert.ok(m, `Unexpected ip link line: "${line}"`);
    return { name: m[2]!, index: Number(m[1]), peer: Number(m[3]) };
  });
}

// Linkwatch (net/core/link_watch.c) handles a link's carrier change at once only when it is
// "urgent", and a veth's is urgent only when its index differs from its peer's; otherwise it
// waits for the next run, up to a second later. Until then IPv6 is not ready on the link (no
// ff00::/8 route), so the router's first neighbour solicitation for a client address it has
// not met is dropped ("Ip6InNoRoutes") and the SYN-ACK waits for the SYN retried a second later.
Deno.test("lab links are ready at once: no veth shares its peer's index, IPv6's first SYN from a new address is answered", async () => {
  const lab = await createLab();
  try {
    for (const ns of Object.values(lab.hosts)) {
      for (const link of await links(ns)) {
        assert.notEqual(link.index, link.peer, `${link.name} in ${ns} has its peer's index`);
      }
    }
    const server = await startServer(lab, 7000);
    try {
      // The bystander's address: the router has never resolved it, so it must solicit it. A
      // timeout under the SYN retry (1 s) fails when the first solicitation is dropped.
      const started = performance.now();
      assert.equal(await tryConnect(lab, BYSTANDER.v6, SERVER.v6, 7000, 900), "connected");
      assert.ok(performance.now() - started < 5000);
    } finally {
      await server.stop();
    }
  } finally {
    await lab.teardown();
  }
});
