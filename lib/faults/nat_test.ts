import assert from "node:assert/strict";
import { CLIENT, NAT_PUBLIC_V4 } from "../lab/address_plan.ts";
import { createLab, type Lab } from "../lab/lab.ts";
import { readSocketTable } from "../observe/proc_net_tcp.ts";
import { run } from "../process/spawn.ts";
import { expireNatNow, installNat, type StrayPolicy } from "./nat.ts";
import { type NatMapping, readNatMappings } from "../observe/nat_mappings.ts";
import {
  connectClient,
  eventually,
  type Fixture,
  serverSockets,
  sleep,
  startServer,
} from "./testdata/fixture.ts";
import { FaultUnsupported, unsupportedFault } from "./unsupported.ts";

const PORT = 7004;
const TIMEOUT_KEY = "net.netfilter.nf_conntrack_tcp_timeout_established";

async function mappings(lab: Lab): Promise<NatMapping[]> {
  const unsupported = await unsupportedFault("nat-mappings", ["conntrack"]);
  assert.equal(unsupported, undefined, String(unsupported));
  return await readNatMappings(lab);
}

async function routerTimeout(lab: Lab): Promise<string> {
  return (await run(["sysctl", "-n", TIMEOUT_KEY], { netns: lab.hosts.router })).stdout.trim();
}

/** Packets the NAT's stray rule (router input, public address) has met. */
async function straysMet(lab: Lab): Promise<number> {
  const out = await run(["nft", "list", "chain", "ip", "cd_nat", "input"], {
    netns: lab.hosts.router,
  });
  return Number(/counter packets (\d+)/.exec(out.stdout)?.[1]);
}

/** The stray's fate at the server: an RST from the router, or nothing at all. */
async function expectStrayOutcome(
  strays: StrayPolicy,
  server: Fixture,
  client: Fixture,
  conn: { id: number; localPort: number },
  lab: Lab,
): Promise<void> {
  if (strays === "rst") {
    await server.waitFor(
      (e) => e.event === "error" && e.id === conn.id && e.error === "ConnectionReset",
      "the server to see ECONNRESET",
    );
    await eventually(
      () => serverSockets(server, conn.localPort).length === 0,
      "the server's socket to go",
    );
    // The RST came from the router: the client never heard of it.
    const own = readSocketTable(client.pid).find((s) => s.local.port === conn.localPort);
    assert.equal(own?.state, "ESTABLISHED");
    // The NAT's rule answered, not the router's own stack.
    assert.ok(await straysMet(lab) >= 1);
  } else {
    await eventually(
      () =>
        serverSockets(server, conn.localPort).some((s) =>
          s.timer === "retransmit" && s.retransmits > 0
        ),
      "the server to retransmit into silence",
    );
    assert.equal(serverSockets(server, conn.localPort)[0]?.state, "ESTABLISHED");
    assert.ok(!server.events.some((e) => e.event === "error"));
    assert.ok(await straysMet(lab) >= 1);
    // The dropped stray left no new mapping behind (conntrack's pickup was never confirmed).
    assert.deepEqual(await mappings(lab), []);
  }
}

for (const strays of ["rst", "drop"] as const) {
  Deno.test(`NAT: the server sees the public address; after expireNatNow a stray gets ${strays === "rst" ? "an RST" : "silence"}`, async () => {
    const lab = await createLab();
    const timeoutBefore = await routerTimeout(lab);
    const nat = await installNat(lab, { establishedTimeoutS: 600, strays });
    assert.ok(!(nat instanceof FaultUnsupported), String(nat));
    const server = await startServer(lab, PORT);
    const conn = await connectClient(lab, server, PORT);
    try {
      const accepted = server.events.find((e) => e.event === "accepted" && e.id === conn.id);
      assert.deepEqual(accepted?.remote, { address: NAT_PUBLIC_V4, port: conn.localPort });
      const [mapping, ...more] = await mappings(lab);
      assert.deepEqual(more, []);
      assert.equal(mapping?.original.src, CLIENT.v4);
      assert.equal(mapping?.reply.dst, NAT_PUBLIC_V4);
      assert.equal(mapping?.state, "ESTABLISHED");
      assert.ok(mapping.timeoutS > 590 && mapping.timeoutS <= 600, mapping.line);
      await server.command(`send ${conn.id} 100`);
      await conn.client.command("await 100");
      await conn.client.waitFor((e) => e.event === "received", "data through the NAT");

      const expired = await expireNatNow(lab, { clientPort: conn.localPort, serverPort: PORT });
      assert.ok(!(expired instanceof FaultUnsupported), String(expired));
      assert.equal(expired.deleted, 1);
      assert.deepEqual(await mappings(lab), []);
      await server.command(`send ${conn.id} 100`);
      await expectStrayOutcome(strays, server, conn.client, conn, lab);
    } finally {
      await conn.client.stop();
      await server.stop();
      await nat.undo();
      assert.equal(await routerTimeout(lab), timeoutBefore, "the router's timeout restored");
      await lab.teardown();
    }
  });
}

Deno.test("NAT: a mapping expires on its own after establishedTimeoutS, then strays get an RST", async () => {
  const lab = await createLab();
  const nat = await installNat(lab, { establishedTimeoutS: 1, strays: "rst" });
  assert.ok(!(nat instanceof FaultUnsupported), String(nat));
  assert.equal(await routerTimeout(lab), "1");
  const server = await startServer(lab, PORT);
  const conn = await connectClient(lab, server, PORT);
  try {
    const [mapping] = await mappings(lab);
    assert.ok(mapping && mapping.timeoutS <= 1, mapping?.line);
    // conntrack counts in whole seconds: 1 s, plus up to 1 s of rounding, plus slack.
    const until = Date.now() + 3000;
    while ((await mappings(lab)).length > 0 && Date.now() < until) await sleep(100);
    assert.deepEqual(await mappings(lab), []);
    await server.command(`send ${conn.id} 100`);
    await expectStrayOutcome("rst", server, conn.client, conn, lab);
  } finally {
    await conn.client.stop();
    await server.stop();
    await nat.undo();
    await lab.teardown();
  }
});
