import assert from "node:assert/strict";
import { BYSTANDER } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { connectClient, eventually, serverSockets, startServer } from "./testdata/fixture.ts";
import { resetFromHost } from "./reset_from_host.ts";
import { FaultUnsupported } from "./unsupported.ts";

const PORT = 7003;

Deno.test("resetFromHost: the client's kernel resets the connection and the server's socket goes", async () => {
  const lab = await createLab();
  const server = await startServer(lab, PORT);
  const victim = await connectClient(lab, server, PORT);
  const other = await connectClient(lab, server, PORT);
  const bystander = await connectClient(lab, server, PORT, { local: BYSTANDER.v4 });
  try {
    const before = monotonicMs();
    const reset = await resetFromHost(lab, { localPort: victim.localPort });
    assert.ok(!(reset instanceof FaultUnsupported), String(reset));
    assert.equal(reset.destroyed, 1);
    assert.ok(reset.t >= before);
    await server.waitFor(
      (e) => e.event === "error" && e.id === victim.id && e.error === "ConnectionReset",
      "the server to see ECONNRESET",
    );
    await eventually(
      () => serverSockets(server, victim.localPort).length === 0,
      "the server's socket to go",
    );
    // Only the selected connection: the client's other one and the bystander's stay.
    assert.equal(serverSockets(server, other.localPort)[0]?.state, "ESTABLISHED");
    assert.equal(serverSockets(server, bystander.localPort)[0]?.state, "ESTABLISHED");

    await assert.rejects(
      () => resetFromHost(lab, { localPort: victim.localPort }),
      /No connection of the client matched/,
    );
  } finally {
    for (const c of [victim, other, bystander]) await c.client.stop();
    await server.stop();
    await lab.teardown();
  }
});
