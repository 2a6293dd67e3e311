import assert from "node:assert/strict";
import { SERVER } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { spawn } from "../process/spawn.ts";
import { recordExit, residentKiB, sampleProcess } from "./server_process.ts";
import { findServerFd } from "./testdata/server_fd.ts";
import { connectIdleClient, startKeepaliveServer } from "./testdata/keepalive_lab.ts";

Deno.test("sampleProcess counts a server's fds as it accepts, and reads its RSS", async () => {
  const lab = await createLab();
  const children: { end(): Promise<unknown> }[] = [];
  try {
    const server = await startKeepaliveServer(lab.hosts, SERVER.v4, 8080);
    children.push(server);
    const before = sampleProcess(server.pid);
    assert.equal(before.alive, true);
    assert.ok(
      before.rssKiB > 1000,
      `RSS of a Deno process is megabytes, got "${before.rssKiB}" KiB`,
    );
    const client = await connectIdleClient(lab.hosts, SERVER.v4, 8080);
    children.push(client);
    // Bounded: the fixture accepts at once. The runtime may open files and sockets of its own
    // meanwhile (its caches, some time after it started): the count grows by the connection's
    // fd at least.
    const accepted = () => findServerFd(server.pid, client.local, 8080);
    for (let i = 0; i < 500 && !accepted(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(accepted(), "The fixture accepted the client");
    const after = sampleProcess(server.pid);
    assert.ok(after.fds >= before.fds + 1, `${before.fds} fds, then ${after.fds}`);
    assert.ok(after.at > before.at);
  } finally {
    for (const child of children.reverse()) await child.end();
    await lab.teardown();
  }
});

Deno.test("recordExit reports the signal that killed the process; a dead process samples as gone", async () => {
  const child = spawn(["sleep", "10"]);
  const exit = recordExit(child);
  assert.equal(sampleProcess(child.pid).alive, true);
  assert.ok(residentKiB(child.pid) > 0);
  child.signal("SIGPIPE");
  const { signal, code } = await exit;
  assert.equal(signal, "SIGPIPE");
  assert.equal(code, 128 + 13);
  assert.deepEqual({ ...sampleProcess(child.pid), at: 0 }, {
    at: 0,
    alive: false,
    fds: 0,
    rssKiB: 0,
  });
  assert.equal(residentKiB(child.pid), 0);
});
