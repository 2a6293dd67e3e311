import assert from "node:assert/strict";
import { SERVER } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { run } from "../process/spawn.ts";
import { predictRelease } from "../evaluate/predict_release.ts";
import { readSocketOptions, readTcpSysctls } from "./socket_options.ts";
import { findServerFd } from "./testdata/server_fd.ts";
import { FIXTURE_OPTIONS } from "./testdata/keepalive_server.ts";
import { connectIdleClient, startKeepaliveServer } from "./testdata/keepalive_lab.ts";

const PORT = 8080;

function openFds(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

Deno.test("readSocketOptions reads the fixture's options through pidfd_getfd; sysctls come from its namespace", async () => {
  const lab = await createLab();
  const children: { end(): Promise<unknown> }[] = [];
  try {
    const server = await startKeepaliveServer(lab.hosts, SERVER.v4, PORT);
    children.push(server);
    const client = await connectIdleClient(lab.hosts, SERVER.v4, PORT);
    children.push(client);

    // The fixture sets the options right after accept(): wait for the last one, bounded.
    let options;
    for (let i = 0; i < 100; i++) {
      const found = findServerFd(server.pid, client.local, PORT);
      if (found) options = readSocketOptions(server.pid, found.fd);
      if (options?.userTimeoutMs) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(options, "The server's fd for the connection was never found");
    assert.deepEqual(options, { ...FIXTURE_OPTIONS, rtoMaxMs: 120_000 });

    // The duplicate and the pidfd are closed again.
    const before = openFds();
    const found = findServerFd(server.pid, client.local, PORT);
    assert.ok(found);
    readSocketOptions(server.pid, found.fd);
    assert.equal(openFds(), before);
    assert.equal(found.entry.state, "ESTABLISHED");

    const sysctls = readTcpSysctls(lab.hosts.server);
    assert.deepEqual(sysctls, {
      keepaliveTimeS: 7200,
      keepaliveIntvlS: 75,
      keepaliveProbes: 9,
      retries2: 15,
      orphanRetries: 0,
    });

    // Read inside the namespace: a change there (never in the root namespace) shows up.
    await run(["sysctl", "-q", "-w", "net.ipv4.tcp_retries2=8"], { netns: lab.hosts.server });
    assert.equal((readTcpSysctls(lab.hosts.server)).retries2, 8);

    const prediction = predictRelease(options, sysctls, "idle");
    assert.equal(prediction.afterMs, 4000);
    assert.equal(prediction.mechanism, "keepalive");
  } finally {
    for (const child of children) await child.end();
    await lab.teardown();
  }
});

Deno.test("readSocketOptions names the failing call for a pid that does not exist", () => {
  assert.throws(() => readSocketOptions(2 ** 22 + 1, 3), /pidfd_open failed: ESRCH/);
});
