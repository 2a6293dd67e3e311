import { connectionRelease } from "./connection_release.ts";
import assert from "node:assert/strict";
import { monotonicMs } from "../libc/libc.ts";
import { CLIENT, SERVER } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { parseProcNetTcp, readSocketTable, socketFds } from "./proc_net_tcp.ts";
import { spawn } from "../process/spawn.ts";
import { isConnectionFrom, sameAddress, watchSocket } from "./socket_watch.ts";
import { findServerFd } from "./testdata/server_fd.ts";
import { FIXTURE_OPTIONS } from "./testdata/keepalive_server.ts";
import { connectIdleClient, dropAtRouter, startKeepaliveServer } from "./testdata/keepalive_lab.ts";

const PORT = 8080;

Deno.test("sameAddress compares addresses as bytes, IPv4 equal to its IPv4-mapped form", () => {
  assert.equal(sameAddress("192.0.2.2", "::ffff:c000:202"), true);
  assert.equal(sameAddress("2001:db8:c::2", "2001:0db8:000c:0:0:0:0:0002"), true);
  assert.equal(sameAddress("192.0.2.2", "192.0.2.3"), false);
  assert.equal(sameAddress("192.0.2.2", "2001:db8:c::2"), false);
});

Deno.test("isConnectionFrom matches the peer in IPv4 and IPv4-mapped rows, never a listener", () => {
  // A dual-stack listener on [::]:8081 with a connection from 192.0.2.2:59674 (Linux 6.18).
  const rows = parseProcNetTcp(
    `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12890 1 00000000d3fe449f 100 0 0 10 0
   1: 0000000000000000FFFF0000026433C6:1F91 0000000000000000FFFF0000020200C0:E91A 01 00000000:00000000 02:00000031 00000000     0        0 12910 2 0000000042cb64fc 20 0 0 10 -1
`,
  );
  const peer = { address: "192.0.2.2", port: 59674 };
  assert.deepEqual(rows.map((r) => isConnectionFrom(r, peer)), [false, true]);
  assert.equal(isConnectionFrom(rows[1]!, peer, 8081), true);
  assert.equal(isConnectionFrom(rows[1]!, peer, 8080), false);
  assert.equal(isConnectionFrom(rows[1]!, { ...peer, port: 1 }), false);
  assert.equal(isConnectionFrom(rows[0]!, { address: "::", port: 0 }), false);
});

Deno.test("watchSocket sees keepalive probes go unanswered after a vanish, then the kernel's abort with the fd still held", async () => {
  const lab = await createLab();
  const children: { end(): Promise<unknown> }[] = [];
  try {
    const server = await startKeepaliveServer(lab.hosts, SERVER.v4, PORT);
    children.push(server);
    const client = await connectIdleClient(lab.hosts, SERVER.v4, PORT);
    children.push(client);
    assert.equal(client.local.address, CLIENT.v4);
    const watch = watchSocket(server.pid, client.local, { localPort: PORT, intervalMs: 10 });
    children.push({ end: () => Promise.resolve(watch.stop()) });

    const established = await watch.waitFor(
      (e) => e.state === "ESTABLISHED" && e.timer === "keepalive" && e.fd !== undefined,
      3000,
    );
    assert.ok(established, "No ESTABLISHED event with a keepalive timer and an fd");
    assert.equal(established.holding, "held");
    assert.equal(established.fd, findServerFd(server.pid, client.local, PORT)?.fd);

    // One byte the fixture never reads: its arrival is the last thing the server receives,
    // and it cannot arrive before this moment.
    const sentAt = monotonicMs();
    await client.send("x");
    const received = await watch.waitFor((e) => e.rxQueue === 1, 2000);
    assert.ok(received, "The byte never reached the server's receive queue");
    await dropAtRouter(lab.hosts, CLIENT.v4);

    const probing = await watch.waitFor((e) => e.probes === 2, 6000);
    assert.ok(probing, "Probes never reached 2");
    assert.equal(probing.state, "ESTABLISHED");
    const closed = await watch.waitFor((e) => e.holding === "closed_fd_held", 6000);
    assert.ok(closed, "The kernel never closed the connection");
    assert.equal(closed.state, "CLOSE");
    assert.equal(closed.fd, established.fd);

    // The fixture holds its fd: the kernel ended the socket, the server did not release it.
    const release = connectionRelease(watch.events);
    assert.equal(release.releasedAt, undefined);
    assert.equal(release.kernelEndedAt, closed.at);
    assert.equal(release.heldFd, established.fd);
    // The fixture's options predict an abort 4000 ms after the last segment received, at the
    // third keepalive firing (+2 s, +3 s, +4 s) with 2 probes out; keepalive alone would send a
    // third probe and abort at +5 s. The probe count tells them apart whatever the load.
    console.log(watch.events.map((e) => `${e.state}/${e.holding}/probes ${e.probes}`).join(" → "));
    const probes = watch.events.filter((e) => e.changed.includes("probes")).map((e) => e.probes);
    assert.deepEqual(probes.slice(-2), [1, 2]);
    // The time only from moments no lateness can move the wrong way: the poll sees the close
    // late, if at all, and the byte left after sentAt. So this is never less than the kernel's
    // interval; -50 ms for the jiffy the kernel's receive stamp is rounded to (4 ms at HZ=250,
    // 10 ms at HZ=100). How late above 4000 ms is the poll's and the load's: a note, not a bound.
    const afterMs = closed.at - sentAt;
    console.log(
      `kernel ended it ${(closed.at - received.at).toFixed(0)} ms after the byte was seen`,
    );
    assert.ok(afterMs >= FIXTURE_OPTIONS.userTimeoutMs - 50, `Ended ${afterMs} ms after the byte`);
    assert.ok(watch.events.every((e) => e.at <= monotonicMs()));
  } finally {
    for (const child of children.reverse()) await child.end();
    await lab.teardown();
  }
});

Deno.test("watchSocket sees a connection the server closed as orphaned: released, the kernel finishing it", async () => {
  const lab = await createLab();
  const children: { end(): Promise<unknown> }[] = [];
  try {
    // Deno.listen is enough here: accept, hold until the test closes the server's stdin, close.
    const code = `const l = Deno.listen({ hostname: "${SERVER.v6}", port: ${PORT} });
      const c = await l.accept();
      await Deno.stdin.read(new Uint8Array(1));
      c.close();
      await new Promise((r) => setTimeout(r, 20000));`;
    const server = spawn([Deno.execPath(), "eval", code], {
      netns: lab.hosts.server,
      stdin: "piped",
    });
    children.push(server);
    for (
      let i = 0;
      // Its own fd must hold the socket: before `nsenter` switches, /proc/<pid>/net is the host's.
      i < 250 &&
      !readSocketTable(server.pid).some((s) =>
        s.state === "LISTEN" && socketFds(server.pid).has(s.inode)
      );
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const client = await connectIdleClient(lab.hosts, SERVER.v6, PORT);
    children.push(client);
    const watch = watchSocket(server.pid, client.local, { localPort: PORT });
    children.push({ end: () => Promise.resolve(watch.stop()) });
    const held = await watch.waitFor((e) => e.holding === "held" && e.fd !== undefined, 3000);
    assert.ok(held, "Never held");
    await server.process.stdin.close();
    // The client reads EOF and exits, closing its side: the server's socket ends in TIME_WAIT.
    const timeWait = await watch.waitFor((e) => e.state === "TIME_WAIT", 3000);
    assert.ok(timeWait, "Never reached TIME_WAIT");
    console.log(watch.events.map((e) => `${e.state}/${e.holding}`).join(" → "));
    const released = watch.events.find((e) => e.holding === "orphaned");
    assert.ok(released);
    assert.equal(connectionRelease(watch.events).releasedAt, released.at);
    assert.deepEqual([released.inode, released.fd], [0, undefined]);
    assert.ok(["FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT"].includes(released.state), released.state);
    assert.equal(timeWait.holding, "orphaned");
  } finally {
    for (const child of children.reverse()) await child.end();
    await lab.teardown();
  }
});

Deno.test("waitFor resolves undefined on timeout, and at once after stop", async () => {
  const watch = watchSocket(Deno.pid, { address: "192.0.2.99", port: 9 });
  try {
    const start = monotonicMs();
    assert.equal(await watch.waitFor(() => true, 50), undefined);
    assert.ok(monotonicMs() - start >= 45);
    assert.throws(() => watch.waitFor(() => true, Infinity), RangeError);
  } finally {
    watch.stop();
  }
  assert.equal(await watch.waitFor(() => true, 1000), undefined);
  assert.deepEqual(connectionRelease(watch.events), { everHeld: false });
  // Past its lifetime a watch stops by itself: no timer left behind for the sanitizer to find.
  watchSocket(Deno.pid, { address: "192.0.2.99", port: 9 }, { lifetimeMs: 0 });
});
