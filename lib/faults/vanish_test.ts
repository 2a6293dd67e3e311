import assert from "node:assert/strict";
import { BYSTANDER, CLIENT, SERVER } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { readSocketTable } from "../observe/proc_net_tcp.ts";
import {
  connectClient,
  eventually,
  serverSockets,
  startServer,
  tryConnect,
} from "./testdata/fixture.ts";
import { FaultUnsupported } from "./unsupported.ts";
import { vanish } from "./vanish.ts";

const PORT = 7001;

Deno.test("vanish drops the client both ways while the bystander still connects; heal restores it", async () => {
  const lab = await createLab();
  const server = await startServer(lab, PORT);
  const { client, id, localPort } = await connectClient(lab, server, PORT);
  try {
    const before = monotonicMs();
    const gone = await vanish(lab);
    assert.ok(!(gone instanceof FaultUnsupported), String(gone));
    assert.ok(gone.t >= before && gone.t <= monotonicMs());

    // New connections: the client's addresses (v4 and v6) are gone, the bystander's are not.
    // 3 s: the router's first neighbour solicitation for the bystander's v6 address can go
    // unanswered, its second (1 s later) is answered; a dropped SYN never connects at all.
    const attempts = await Promise.all([
      tryConnect(lab, CLIENT.v4, SERVER.v4, PORT, 3000),
      tryConnect(lab, CLIENT.v6, SERVER.v6, PORT, 3000),
      tryConnect(lab, BYSTANDER.v4, SERVER.v4, PORT, 3000),
      tryConnect(lab, BYSTANDER.v6, SERVER.v6, PORT, 3000),
    ]);
    assert.deepEqual(attempts, ["timeout", "timeout", "connected", "connected"]);

    // Both directions of the established connection go unanswered: each side retransmits.
    await server.command(`send ${id} 1000`);
    await client.command("send 100");
    await eventually(
      () => serverSockets(server, localPort).some((s) => s.retransmits > 0),
      "the server to retransmit",
    );
    await eventually(
      () =>
        readSocketTable(client.pid).some((s) => s.local.port === localPort && s.retransmits > 0),
      "the client to retransmit",
    );
    assert.ok(!server.events.some((e) => e.event === "data" && e.id === id));

    const healed = await gone.undo();
    assert.ok(healed >= gone.t);
    assert.equal(await gone.undo(), healed, "heal is idempotent");
    // The pending data gets through on the next retransmission (after about a second of
    // silence the backoff is a second or two: 10 s is ample).
    await client.command("await 1000");
    await client.waitFor((e) => e.event === "received", "the server's data", 10_000);
    await server.waitFor((e) => e.event === "data" && e.id === id, "the client's data", 10_000);
    assert.equal(await tryConnect(lab, CLIENT.v4, SERVER.v4, PORT, 1000), "connected");
  } finally {
    await client.stop();
    await server.stop();
    await lab.teardown();
  }
});
