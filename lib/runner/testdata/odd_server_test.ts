import assert from "node:assert/strict";
import { ClientAgent } from "../../client/client_agent.ts";
import { SERVER } from "../../lab/address_plan.ts";
import { createLab, type Lab } from "../../lab/lab.ts";
import { monotonicMs } from "../../libc/libc.ts";
import { readSocketTable, socketFds } from "../../observe/proc_net_tcp.ts";
import { type Child, spawn } from "../../process/spawn.ts";
import { parseOddServerArgs } from "./odd_server.ts";
import odd, { oddServerFlags } from "./odd_target.ts";

const SCRIPT = new URL("./odd_server.ts", import.meta.url).pathname;

Deno.test("parseOddServerArgs reads every flag and refuses what the kernel would", () => {
  assert.deepEqual(
    parseOddServerArgs([
      "--address",
      "::1",
      "--port",
      "7070",
      "--keepalive",
      "1",
      "--keepidle",
      "2",
      "--user-timeout-ms",
      "0",
      "--leak",
      "1",
      "--push-after-ms",
      "500",
    ]),
    {
      address: "::1",
      port: 7070,
      keepalive: true,
      keepIdleS: 2,
      userTimeoutMs: 0,
      leak: true,
      pushAfterMs: 500,
    },
  );
  assert.throws(() =>
    parseOddServerArgs(["--address", "::1", "--port", "7070", "--keepidle", "0"])
  );
  assert.throws(() => parseOddServerArgs(["--address", "::1", "--port", "7070", "--leak", "2"]));
  assert.throws(() => parseOddServerArgs(["--address", "::1", "--port", "7070", "--bogus", "1"]));
  assert.throws(() => parseOddServerArgs(["--port", "7070"]));
  assert.deepEqual(oddServerFlags({ keepalive: true, keepIdleS: 2, leak: false }), [
    "--keepalive",
    "1",
    "--keepidle",
    "2",
    "--leak",
    "0",
  ]);
  assert.ok(Object.keys(odd.variants ?? {}).includes("late-writer"));
});

async function startOdd(
  lab: Lab,
  flags: string[],
): Promise<{ server: Child; logged: (line: RegExp) => Promise<string> }> {
  const server = spawn(
    [
      Deno.execPath(),
      "run",
      "--allow-all",
      SCRIPT,
      "--address",
      SERVER.v4,
      "--port",
      "7070",
      ...flags,
    ],
    { netns: lab.hosts.server, stderr: "piped", stdout: "null" },
  );
  let text = "";
  // Read as it comes (a full pipe would stall the server); ends with the server.
  (async () => {
    for await (const chunk of server.process.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
    }
  })();
  // What the server has written so far, once it matches `line` (at most 5 s: the server
  // writes it as it notices, on its own time).
  const logged = async (line: RegExp) => {
    for (let i = 0; i < 500 && !line.test(text); i++) await new Promise((r) => setTimeout(r, 10));
    return text;
  };
  for (let i = 0; i < 1000; i++) {
    const fds = socketFds(server.pid);
    if (readSocketTable(server.pid).some((s) => s.state === "LISTEN" && fds.has(s.inode))) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { server, logged };
}

/** Socket fds of `pid` with no TCP table row: the runtime's own, and any the kernel ended. */
function untabled(pid: number): number[] {
  const inodes = new Set(readSocketTable(pid).map((s) => s.inode));
  return [...socketFds(pid).keys()].filter((inode) => !inodes.has(inode));
}

async function withLab(fn: (lab: Lab, agent: ClientAgent) => Promise<void>): Promise<void> {
  const lab = await createLab();
  const agent = await ClientAgent.start(lab);
  try {
    await fn(lab, agent);
  } finally {
    await agent.stop();
    await lab.teardown();
  }
}

Deno.test("odd server: --leak keeps the fd of a connection the peer reset; --push-after-ms writes later; --exit-after-ms and --exit-on-error die", async () => {
  await withLab(async (lab, agent) => {
    const { server, logged } = await startOdd(lab, ["--leak", "1", "--push-after-ms", "300"]);
    const before = untabled(server.pid);
    const c = await agent.connect({ address: SERVER.v4, port: 7070 });
    assert.ok(c.ok);
    // The server counts from the end of its answer, which comes after this moment: measured
    // from here, the late write can only be later than 300 ms, however busy the host.
    const asked = monotonicMs();
    await agent.send(c.conn, "PING\n");
    const pong = await agent.read(c.conn, { until: "PONG\n" });
    assert.ok(pong.ok && pong.found);
    // The late write: 1000 bytes, 300 ms after the exchange.
    const pushed = await agent.read(c.conn, { bytes: 1000, timeoutMs: 3000 });
    assert.ok(pushed.ok && pushed.bytes === 1000, JSON.stringify(pushed));
    assert.ok(pushed.t - asked >= 300, `pushed ${pushed.t - asked} ms after the request`);
    await agent.abort(c.conn);
    // The kernel ends the socket on the RST; the server keeps its fd: one more socket fd with
    // no table row (bounded wait: the RST is on the wire when abort returns).
    const leaked = () => untabled(server.pid).filter((inode) => !before.includes(inode)).length;
    for (let i = 0; i < 500 && leaked() === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(leaked(), 1);
    // The server says so when it notices the reset, which may come after the kernel ended the
    // socket: waited for before the server is killed.
    const leak = /event=leak fd=\d+ .*reason=(error|peer-fin|hangup)/;
    assert.match(await logged(leak), leak);
    server.signal("SIGKILL");
    await server.status;
  });
  await withLab(async (lab, agent) => {
    const { server } = await startOdd(lab, ["--exit-after-ms", "300"]);
    const c = await agent.connect({ address: SERVER.v4, port: 7070 });
    assert.ok(c.ok);
    assert.equal((await server.status).code, 3);
  });
  await withLab(async (lab, agent) => {
    const { server } = await startOdd(lab, ["--exit-on-error", "1"]);
    const c = await agent.connect({ address: SERVER.v4, port: 7070 });
    assert.ok(c.ok);
    await agent.close(c.conn);
    assert.equal((await server.status).code, 4);
  });
});
