import assert from "node:assert/strict";
import { BYSTANDER } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import {
  connectClient,
  eventually,
  serverSockets,
  sleep,
  startServer,
} from "./testdata/fixture.ts";
import { reboot } from "./reboot.ts";
import { FaultUnsupported } from "./unsupported.ts";

const PORT = 7002;

Deno.test("reboot: the server's next packet after the client host comes back is answered with RST", async () => {
  const lab = await createLab();
  const server = await startServer(lab, PORT);
  const victim = await connectClient(lab, server, PORT);
  const bystander = await connectClient(lab, server, PORT, { local: BYSTANDER.v4 });
  try {
    const rebooted = await reboot(lab, { serverPort: PORT, downMs: 200 });
    assert.ok(!(rebooted instanceof FaultUnsupported), String(rebooted));
    assert.equal(rebooted.destroyed, 1, "only the client's connection, not the bystander's");
    assert.ok(rebooted.t <= rebooted.forgotAt && rebooted.upAt - rebooted.forgotAt >= 200);
    await victim.client.waitFor((e) => e.event === "error", "the client's socket to be destroyed");

    // The destroy's RST died at the router: the server still believes in the connection.
    await sleep(200);
    assert.equal(serverSockets(server, victim.localPort)[0]?.state, "ESTABLISHED");
    assert.ok(!server.events.some((e) => e.event === "error"));

    await server.command(`send ${victim.id} 100`);
    await server.waitFor(
      (e) => e.event === "error" && e.id === victim.id && e.error === "ConnectionReset",
      "the server to see ECONNRESET",
    );
    await eventually(
      () => serverSockets(server, victim.localPort).length === 0,
      "the server's socket to go",
    );

    // The bystander on the same host was not touched.
    await server.command(`send ${bystander.id} 100`);
    await bystander.client.command("await 100");
    await bystander.client.waitFor((e) => e.event === "received", "the bystander's data");
  } finally {
    await victim.client.stop();
    await bystander.client.stop();
    await server.stop();
    await lab.teardown();
  }
});
