import { Ajv2020 } from "ajv/dist/2020.js";
import assert from "node:assert/strict";
import { CLIENT, SERVER } from "../lab/address_plan.ts";
import { createLab, type Lab } from "../lab/lab.ts";
import { startCapture } from "../observe/capture.ts";
import { readSocketTable, socketFds } from "../observe/proc_net_tcp.ts";
import { type Child, run } from "../process/spawn.ts";
import { monotonicMs } from "../libc/libc.ts";
import { runningKernelHz } from "../observe/kernel_hz.ts";
import { predictFromObservations } from "../evaluate/predict_release.ts";
import { readSocketOptions, readTcpSysctls } from "../observe/socket_options.ts";
import { type SocketEvent, watchSocket } from "../observe/socket_watch.ts";
import { findServerFd } from "../observe/testdata/server_fd.ts";
import { startTarget } from "../target/start_target.ts";
import refNaive from "../../targets/ref_naive.ts";
import { inspectProcess } from "./inspect.ts";
import {
  type Inspection,
  INSPECTION_JSON_SCHEMA_FILE,
  inspectionJsonSchemaText,
  inspectionProblems,
} from "./inspection_schema.ts";
import { startClient, startOptionServer, until } from "./testdata/inspect_lab.ts";

const PORT = 7019;
const MAIN = new URL("../../mod.ts", import.meta.url).pathname;

/** The published JSON Schema, compiled by another validator (ajv, strict mode). */
const schemaAccepts = new Ajv2020({ strict: true, allErrors: true, validateFormats: false })
  .compile(JSON.parse(Deno.readTextFileSync(INSPECTION_JSON_SCHEMA_FILE)));

/** Runs `clientdown inspect ...args` as its own process, as a user would. */
async function cli(args: string[], prefix: string[] = []) {
  const [program, ...rest] = [...prefix, Deno.execPath(), "run", "--allow-all", MAIN, "inspect"];
  const out = await new Deno.Command(program!, { args: [...rest, ...args] }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** A lab, the children a test starts in it, all ended and removed afterwards. */
async function withLab(test: (lab: Lab, children: Child[]) => Promise<void>): Promise<void> {
  const lab = await createLab();
  const children: Child[] = [];
  try {
    await test(lab, children);
  } finally {
    for (const child of children) await child.end();
    await lab.teardown();
  }
}

/** The server's connections as the kernel lists them: state, queues, timer kind, inode. */
/**
 * The server's connections on PORT that it has accepted (their socket is one of its fds): one
 * still in the accept queue is not the server's yet, and inspect does not list it.
 */
function connectionRows(pid: number, port = PORT): string[] {
  const fds = socketFds(pid);
  return readSocketTable(pid).filter((e) =>
    e.local.port === port && e.state !== "LISTEN" && fds.has(e.inode)
  )
    .map((e) => `${e.state} ${e.remote.port} ${e.txQueue} ${e.rxQueue} ${e.timer} ${e.inode}`)
    .sort();
}

/** How late a busy 2-core machine may sample a socket watch beyond the model's tolerance. */
const LOAD_MS = 500;

const KEEPALIVE_60 = ["--idle", "60", "--intvl", "10", "--cnt", "5"];

Deno.test("the published JSON Schema of an inspection is current", async () => {
  assert.equal(
    await Deno.readTextFile(INSPECTION_JSON_SCHEMA_FILE),
    inspectionJsonSchemaText(),
    "lib/inspect/inspect.schema.json is stale: run `deno task schema`",
  );
});

Deno.test("inspect PID --json: keepalive 60/10/5 on the accepted socket, idle vanish released 110 s after the last traffic; nothing changed, no packet sent", async () => {
  await withLab(async (lab, children) => {
    const server = await startOptionServer(lab.hosts, SERVER.v4, PORT, [
      "--keepalive",
      "on",
      ...KEEPALIVE_60,
    ]);
    children.push(server);
    const client = await startClient(lab.hosts, SERVER.v4, PORT, "idle");
    children.push(client.child);
    await until(() => connectionRows(server.pid).length === 1, "the accepted connection");
    // The fixture sets the options right after accept: read until they are set, bounded.
    for (let i = 0; i < 50; i++) {
      const first = await inspectProcess(server.pid);
      if (first.connections[0]?.settings.timeouts.keepalive) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const rowsBefore = connectionRows(server.pid);

    const capture = await startCapture(lab, { iface: "r1", port: PORT });
    assert.ok(capture.available, "tcpdump is needed for this test");
    const { code, stdout, stderr } = await cli([String(server.pid), "--json"]);
    const captured = await capture.stop();
    assert.equal(code, 0, stderr);
    const inspection: Inspection = JSON.parse(stdout);
    assert.deepEqual(inspectionProblems(inspection), []);
    assert.ok(schemaAccepts(inspection), JSON.stringify(schemaAccepts.errors));

    assert.equal(captured.packets.length, 0, "the inspection sent nothing");
    assert.deepEqual(connectionRows(server.pid), rowsBefore, "the connection is as it was");
    assert.equal(rowsBefore[0]?.split(" ")[0], "ESTABLISHED");

    const [socket] = inspection.connections;
    assert.deepEqual(socket?.settings.timeouts, {
      keepalive: true,
      keepIdleS: 60,
      keepIntvlS: 10,
      keepCnt: 5,
      userTimeoutMs: 0,
      rtoMaxMs: 120_000,
    });
    assert.equal(socket?.remote.port, client.port);
    const [group] = inspection.card.groups;
    assert.equal(inspection.card.groups.length, 1);
    assert.equal(group?.source, "accepted");
    const idle = group?.exposures.find((e) => e.case === "vanish-idle");
    assert.equal(idle?.release?.afterMs, 110_000);
    assert.equal(idle?.release?.from, "last-traffic");
    assert.equal(idle?.mechanism, "keepalive");
    assert.equal(inspection.card.differFromListener, true, "set after accept");
    assert.deepEqual(inspection.deadLooking, []);

    // Options and connection the same afterwards, read again (the read itself changes nothing).
    const again = await inspectProcess(server.pid);
    assert.deepEqual(again.connections[0]?.settings, socket?.settings);
    assert.equal(again.connections[0]?.state, "ESTABLISHED");
    assert.equal(again.connections[0]?.inode, socket?.inode);
  });
});

Deno.test("inspect: keepalive on every second accepted socket only, four clients: the card says they differ, 2 and 2, with both exposures", async () => {
  await withLab(async (lab, children) => {
    const server = await startOptionServer(lab.hosts, SERVER.v4, PORT, [
      "--keepalive",
      "alternate",
      ...KEEPALIVE_60,
    ]);
    children.push(server);
    for (let i = 0; i < 4; i++) {
      children.push((await startClient(lab.hosts, SERVER.v4, PORT, "idle")).child);
    }
    await until(() => connectionRows(server.pid).length === 4, "four connections");
    let inspection = await inspectProcess(server.pid);
    // The fixture sets the options right after accept: read until the last is set, bounded.
    for (let i = 0; i < 50 && inspection.card.groups.length !== 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      inspection = await inspectProcess(server.pid);
    }
    assert.equal(inspection.card.acceptedDiffer, true);
    const [on, off] = [true, false].map((k) =>
      inspection.card.groups.find((g) => g.options.keepalive === k)
    );
    assert.equal(on?.count, 2);
    assert.equal(off?.count, 2);
    assert.equal(on?.exposures[0]?.release?.afterMs, 110_000);
    assert.equal(off?.exposures[0]?.release, null);
    assert.equal(off?.exposures[0]?.decidedBy, "SO_KEEPALIVE off");

    // Bounded: two of the four connections read, an even sample, and the inspection says so.
    const sample = await inspectProcess(server.pid, {
      maxConnections: 2,
      maxListeners: 64,
      maxMs: 10_000,
    });
    assert.equal(sample.connections.length, 2);
    assert.equal(sample.sockets.sampled, true);
    assert.deepEqual(sample.notes, ["4 connected sockets: an even sample of 2 was read"]);

    const card = (await cli([String(server.pid), "--md"])).stdout;
    assert.match(
      card,
      /Accepted sockets differ: 2 with keepalive o(n|ff) .*; 2 with keepalive o(n|ff)/,
    );
    assert.match(card, /\| vanishes while idle \| 110 s after the last traffic/);
    assert.match(card, /\| vanishes while idle \| never \(no kernel timer ends it\)/);
    const view = (await cli([String(server.pid)])).stdout;
    assert.ok(view.split("\n").every((line) => line.length <= 100), view);
  });
});

Deno.test("inspect: options set on the listener are inherited; TCP_USER_TIMEOUT decides mid-response and a stopped reader", async () => {
  await withLab(async (lab, children) => {
    const server = await startOptionServer(lab.hosts, SERVER.v4, PORT, [
      "--keepalive",
      "on",
      "--where",
      "listener",
      "--idle",
      "30",
      "--intvl",
      "5",
      "--cnt",
      "2",
      "--user-timeout",
      "8000",
    ]);
    children.push(server);
    const idle = await inspectProcess(server.pid);
    assert.equal(idle.card.groups[0]?.source, "listener", "no connection yet");
    children.push((await startClient(lab.hosts, SERVER.v4, PORT, "idle")).child);
    await until(() => connectionRows(server.pid).length === 1, "the connection");
    const inspection = await inspectProcess(server.pid);
    assert.equal(inspection.card.differFromListener, false);
    assert.equal(inspection.card.acceptedDiffer, false);
    const [group] = inspection.card.groups;
    assert.equal(group?.options.userTimeoutMs, 8000);
    const by = Object.fromEntries(group!.exposures.map((e) => [e.case, e]));
    // Keepalive with TCP_USER_TIMEOUT: the first firing (30 s, then every 5 s) after 8 s of
    // silence with a probe out: 35 s; TCP_KEEPCNT ignored.
    assert.equal(by["vanish-idle"]?.release?.afterMs, 35_000);
    assert.equal(by["vanish-mid-response"]?.release?.afterMs, 8000);
    assert.equal(by["vanish-mid-response"]?.mechanism, "user_timeout");
    assert.equal(by["stops-reading"]?.release?.afterMs, 8000);
    assert.equal(by["stops-reading"]?.release?.from, "first-zero-window-probe");

    // IPv6: the same fixture on the server's IPv6 address, read from /proc/net/tcp6.
    const v6 = await startOptionServer(lab.hosts, SERVER.v6, PORT + 2, ["--keepalive", "on"]);
    children.push(v6);
    const client = await startClient(lab.hosts, SERVER.v6, PORT + 2, "idle");
    children.push(client.child);
    await until(() => connectionRows(v6.pid, PORT + 2).length === 1, "the IPv6 connection");
    const six = await inspectProcess(v6.pid);
    assert.equal(six.listeners[0]?.local.address, SERVER.v6);
    assert.deepEqual(six.connections.map((c) => [c.remote.address, c.remote.port]), [
      [CLIENT.v6, client.port],
    ]);
    assert.deepEqual(inspectionProblems(six), []);
  });
});

/**
 * Vanishes the client at `clientPort` while `pid` sends to it, waits for four retransmissions,
 * inspects, and checks that the retransmitting connection is listed with a release within the
 * tolerance of what the certification predicts from its own observations (socket watch and
 * capture at the router) of the same connection. Returns both, for the caller's checks.
 */
async function vanishMidResponse(lab: Lab, pid: number, port: number, clientPort: number) {
  const peer = { address: CLIENT.v4, port: clientPort };
  const found = findServerFd(pid, peer, port);
  assert.ok(found, "the reader's connection");
  const watch = watchSocket(pid, peer, { localPort: port, lifetimeMs: 60_000 });
  const capture = await startCapture(lab, { iface: "r1", port });
  assert.ok(capture.available, "tcpdump is needed for this test");
  const options = readSocketOptions(pid, found.fd);
  // Vanished while data is in flight with the window open (the retransmission timer armed): a
  // reader that fell behind on a busy machine has the window closed, and the server probes the
  // zero window instead of retransmitting. The window can close between the look and the
  // vanish: then the link is healed, and the vanish tried again once the window is open.
  let askedAt = 0;
  let backedOff: SocketEvent | undefined;
  for (let attempt = 1; attempt <= VANISH_ATTEMPTS; attempt++) {
    await until(
      () => readSocketTable(pid).find((e) => e.remote.port === clientPort)?.timer === "retransmit",
      "data in flight to the reader, its window open",
    );
    const asked = askedAt = monotonicMs();
    await vanishAtRouter(lab, clientPort);
    // Four retransmissions back off by then (0.2 + 0.4 + 0.8 + 1.6 s at the lab's RTO).
    const seen = await watch.waitFor(
      (e) => e.at >= asked && (e.retransmits >= 4 || e.timer === "zero_window_probe"),
      30_000,
    );
    if (seen?.timer !== "zero_window_probe") {
      backedOff = seen;
      break;
    }
    await healAtRouter(lab);
  }
  assert.ok(backedOff, "the server retransmits to the vanished reader");
  const inspectedAt = monotonicMs();
  const inspection = await inspectProcess(pid);
  const watchedUntil = monotonicMs();
  watch.stop();
  const packets = (await capture.stop()).packets.filter((p) => p.client.port === clientPort);
  // The drop took effect after the client's last segment that passed the router (the capture
  // sees only what passed), not when the test asked for it: a retransmission the client still
  // acknowledged in between is not an answer after the fault (the runner's capture moment).
  const faultAt = Math.max(
    askedAt,
    packets.findLast((p) => p.direction === "client_to_server" && p.at >= askedAt)?.at ?? askedAt,
  );
  const certified = predictFromObservations({
    options,
    sysctls: readTcpSysctls(lab.hosts.server),
    kernelHz: await runningKernelHz(),
    socket: watch.events,
    packets,
    faultAt,
    lastTrafficAt: faultAt,
    watchedUntil,
    peerExpected: "silent",
  });
  assert.equal(certified.kind, "release", JSON.stringify(certified));
  assert.deepEqual(inspectionProblems(inspection), []);
  const retransmitting = inspection.deadLooking.find((g) => g.kind === "retransmitting");
  assert.equal(retransmitting?.connections.length, 1);
  const vanished = retransmitting!.connections[0]!;
  assert.equal(vanished.remote.port, clientPort);
  assert.equal(vanished.mechanism, "retransmission_timeout");
  assert.ok(vanished.releaseInMs !== undefined && vanished.toleranceMs, vanished.evidence);
  // The same kernel model from two sides: inspect's moment (from TCP_INFO) and the
  // certification's (from the capture) must fall within each other's tolerance.
  if (certified.kind !== "release") throw new Error("unreachable");
  const inspected = inspectedAt + vanished.releaseInMs!;
  const words = `inspect: ${vanished.evidence}; released ${
    Math.round(inspected - faultAt)
  } ms after the fault (${JSON.stringify(vanished.toleranceMs)}); certification: ${
    Math.round(certified.at - faultAt)
  } ms (${JSON.stringify(certified.toleranceMs)}), ${certified.reason}`;
  assert.ok(
    inspected >= certified.at - certified.toleranceMs.early - vanished.toleranceMs!.late &&
      inspected <= certified.at + certified.toleranceMs.late + vanished.toleranceMs!.early,
    words,
  );
  if (Deno.env.get("INSPECT_TEST_VERBOSE")) console.log(words);
}

/** Drops every packet of the client port `port` at the router, both ways (the host vanished). */
/** Vanishes of a reader tried at most, each undone when its window had closed first. */
const VANISH_ATTEMPTS = 3;

/** Undoes vanishAtRouter. */
async function healAtRouter(lab: Lab): Promise<void> {
  await run(["nft", "delete", "table", "ip", "inspect_test_drop"], { netns: lab.hosts.router });
}

async function vanishAtRouter(lab: Lab, port: number): Promise<void> {
  await run(["nft", "-f", "-"], {
    netns: lab.hosts.router,
    input: `table ip inspect_test_drop {
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip saddr ${CLIENT.v4} tcp sport ${port} drop
    ip daddr ${CLIENT.v4} tcp dport ${port} drop
  }
}
`,
  });
}

Deno.test("inspect lists what looks dead: a peer vanished mid-response (retransmitting, released when certification's model says), a stopped reader, a CLOSE_WAIT leak, a half-open candidate", async () => {
  await withLab(async (lab, children) => {
    const sender = await startOptionServer(lab.hosts, SERVER.v4, PORT, ["--send", String(2 ** 40)]);
    children.push(sender);
    const quiet = await startOptionServer(lab.hosts, SERVER.v4, PORT + 1, [
      "--idle",
      "1",
      "--intvl",
      "1",
      "--cnt",
      "1",
    ]);
    children.push(quiet);
    const reader = await startClient(lab.hosts, SERVER.v4, PORT, "read");
    const stopped = await startClient(lab.hosts, SERVER.v4, PORT, "no-read");
    const closer = await startClient(lab.hosts, SERVER.v4, PORT + 1, "close");
    const idle = await startClient(lab.hosts, SERVER.v4, PORT + 1, "idle");
    children.push(reader.child, stopped.child, closer.child, idle.child);
    const row = (pid: number, port: number) =>
      readSocketTable(pid).find((e) => e.remote.port === port && e.state !== "LISTEN");
    await until(
      () => row(sender.pid, stopped.port)?.timer === "zero_window_probe",
      "the stopped reader's zero window",
      undefined,
      30_000,
    );

    await vanishMidResponse(lab, sender.pid, PORT, reader.port);
    const inspection = await inspectProcess(sender.pid);
    const group = (kind: string) => inspection.deadLooking.find((g) => g.kind === kind);

    const zero = group("zero-window")?.connections;
    assert.deepEqual(zero?.map((c) => c.remote.port), [stopped.port]);
    assert.equal(zero?.[0]?.mechanism, "none", "a reader that answers probes: never released");
    assert.equal(zero?.[0]?.releaseInMs, undefined);

    const other = await inspectProcess(quiet.pid);
    const kinds = Object.fromEntries(
      other.deadLooking.map((g) => [g.kind, g.connections.map((c) => c.remote.port)]),
    );
    assert.deepEqual(kinds["close-wait"], [closer.port]);
    // Keepalive off, its own settings would release a dead peer after 2 s: idle longer is a
    // half-open candidate (the test has taken seconds since the clients connected).
    assert.deepEqual(kinds["half-open-candidate"], [idle.port]);
  });
});

Deno.test("inspect ref-naive with a client vanished mid-response: retransmitting, released within the certification's tolerance", async () => {
  await withLab(async (lab, children) => {
    const target = await startTarget(refNaive, lab, "v4");
    children.push(target.child);
    const client = await startClient(lab.hosts, SERVER.v4, target.port, "big");
    children.push(client.child);
    await until(() => {
      const row = readSocketTable(target.pid).find((e) => e.remote.port === client.port);
      return (row?.txQueue ?? 0) > 0;
    }, "ref-naive sending the large response");
    await vanishMidResponse(lab, target.pid, target.port, client.port);
  });
});

Deno.test("inspect refuses on one line, exit 2: a process it may not ptrace, a PID that does not exist, a process without TCP sockets", async () => {
  await withLab(async (lab, children) => {
    const nobody = 65534;
    const server = await startOptionServer(lab.hosts, SERVER.v4, PORT, [], nobody);
    children.push(server);
    // Root without CAP_SYS_PTRACE over another user's process: no ptrace access.
    const denied = await cli([String(server.pid)], [
      "setpriv",
      "--bounding-set=-sys_ptrace",
      "--inh-caps=-sys_ptrace",
    ]);
    assert.equal(denied.code, 2);
    assert.equal(denied.stdout, "");
    assert.match(
      denied.stderr,
      /^clientdown: May not read the fds of process \d+ \(no ptrace access to it\): run inspect as root, with CAP_SYS_PTRACE, or as the server's user where kernel.yama.ptrace_scope is 0\n$/,
    );
  });
  const missing = await cli(["4194303"]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, "clientdown: No process with PID 4194303\n");
  const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const none = await cli([String(sleeper.pid)]);
    assert.equal(none.code, 2);
    assert.equal(
      none.stderr,
      `clientdown: Process ${sleeper.pid} ("sleep") and its 0 descendant(s) hold no TCP socket\n`,
    );
  } finally {
    sleeper.kill();
    await sleeper.status;
  }
});

Deno.test("inspect's releases come true: keepalive probes unanswered, retransmissions and a zero window under TCP_USER_TIMEOUT end when it predicted", async () => {
  await withLab(async (lab, children) => {
    const keepalive = await startOptionServer(lab.hosts, SERVER.v4, PORT, [
      "--keepalive",
      "on",
      "--idle",
      "2",
      "--intvl",
      "1",
      "--cnt",
      "3",
    ]);
    const sender = await startOptionServer(lab.hosts, SERVER.v4, PORT + 1, [
      "--user-timeout",
      "3000",
      "--send",
      String(2 ** 40),
    ]);
    children.push(keepalive, sender);
    const idle = await startClient(lab.hosts, SERVER.v4, PORT, "idle");
    const reader = await startClient(lab.hosts, SERVER.v4, PORT + 1, "read");
    const stopped = await startClient(lab.hosts, SERVER.v4, PORT + 1, "no-read");
    children.push(idle.child, reader.child, stopped.child);
    const row = (pid: number, port: number) =>
      readSocketTable(pid).find((e) => e.remote.port === port && e.state !== "LISTEN");
    await until(
      () => row(sender.pid, stopped.port)?.timer === "zero_window_probe",
      "the stopped reader's zero window",
      undefined,
      30_000,
    );
    const cases = [
      { pid: keepalive.pid, port: idle.port, kind: "keepalive-probing", local: PORT },
      { pid: sender.pid, port: reader.port, kind: "retransmitting", local: PORT + 1 },
      { pid: sender.pid, port: stopped.port, kind: "zero-window", local: PORT + 1 },
    ];
    const watches = cases.map((c) =>
      watchSocket(c.pid, { address: CLIENT.v4, port: c.port }, {
        localPort: c.local,
        lifetimeMs: 60_000,
      })
    );
    try {
      // As in vanishMidResponse: the reader's data in flight with its window open when it goes
      // (a reader that fell behind on a busy machine has the window closed, and the server
      // would probe the zero window instead of retransmitting).
      await until(
        () => row(sender.pid, reader.port)?.timer === "retransmit",
        "data in flight to the reader, its window open",
      );
      await vanishAtRouter(lab, idle.port);
      await run([
        "nft",
        "add",
        "rule",
        "ip",
        "inspect_test_drop",
        "forward",
        "tcp",
        "sport",
        String(reader.port),
        "drop",
      ], { netns: lab.hosts.router });
      await run([
        "nft",
        "add",
        "rule",
        "ip",
        "inspect_test_drop",
        "forward",
        "tcp",
        "dport",
        String(reader.port),
        "drop",
      ], { netns: lab.hosts.router });
      // The first unanswered probe (2 s) and retransmission (0.2 s) are out by 2.5 s.
      await until(
        () =>
          (row(keepalive.pid, idle.port)?.probes ?? 0) > 0 &&
          (row(sender.pid, reader.port)?.retransmits ?? 0) > 0,
        "a probe and a retransmission unanswered",
      );
      // Each inspection's times count from the moment it read the socket: between `before`
      // and `before` + its reading time.
      const read = async (pid: number) => {
        const before = monotonicMs();
        return { before, inspection: await inspectProcess(pid) };
      };
      const inspections = [await read(keepalive.pid), await read(sender.pid)];
      const predictions = cases.map((c) => {
        const { before, inspection } = inspections[c.pid === keepalive.pid ? 0 : 1]!;
        const found = inspection.deadLooking.find((g) => g.kind === c.kind)?.connections
          .find((x) => x.remote.port === c.port);
        assert.ok(found?.releaseInMs !== undefined && found.toleranceMs, `${c.kind}: ${found}`);
        return {
          ...c,
          at: before + found.releaseInMs,
          early: found.toleranceMs.early,
          late: found.toleranceMs.late + inspection.durationMs,
          before,
        };
      });
      for (const [i, p] of predictions.entries()) {
        // The kernel ends it while the fixture holds the fd: gone from the table, fd held.
        const ended = await watches[i]!.waitFor((e) => e.holding === "closed_fd_held", 15_000);
        assert.ok(ended, `${p.kind}: the kernel ended the connection`);
        // Never earlier than the model's early tolerance: a late sample only delays what the
        // watch sees. Later: the model's own tolerance (timer wheel at this HZ, the 100 ms a watch
        // may take), as long as reading took, and LOAD_MS for a busy machine's late sample, still
        // less than the one keepalive interval (1 s) a wrong count of firings would add. Seen on
        // an idle machine: within 120 ms of the moment predicted, the zero window within 300 ms
        // (its first probe's moment is known to one RTO only).
        const words = `${p.kind}: predicted ${Math.round(p.at - p.before)} ms after the ` +
          `inspection (−${p.early} +${p.late}), ended ${Math.round(ended.at - p.before)} ms`;
        assert.ok(ended.at >= p.at - p.early && ended.at <= p.at + p.late + LOAD_MS, words);
        if (Deno.env.get("INSPECT_TEST_VERBOSE")) console.log(words);
      }
    } finally {
      for (const watch of watches) watch.stop();
    }
  });
});
