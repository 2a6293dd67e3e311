import assert from "node:assert/strict";
import { createLab, type Lab } from "../../lib/lab/lab.ts";
import { monotonicMs } from "../../lib/libc/libc.ts";
import { readSocketTable, type SocketEntry, socketFds } from "../../lib/observe/proc_net_tcp.ts";
import { defineTarget, type TargetDefinition } from "../../lib/target/define_target.ts";
import { type RunningTarget, startTarget } from "../../lib/target/start_target.ts";
import refHardened, { HARDENED_SETTINGS, type HardenedSettings } from "../ref_hardened.ts";
import refNaive from "../ref_naive.ts";
import { settingsFlags } from "./hardened_settings.ts";
import { parseLineServerArgs } from "./line_server.ts";
import { BIG_TRAILER } from "./line_protocol.ts";
import { LineClient } from "./testdata/line_client_driver.ts";

const POLL_MS = 10;

Deno.test("parseLineServerArgs takes the defaults, overrides and their last value", () => {
  const base = ["--mode", "hardened", "--address", "2001:db8:5::2", "--port", "7070"];
  assert.deepEqual(parseLineServerArgs(base), {
    mode: "hardened",
    address: "2001:db8:5::2",
    port: 7070,
    settings: HARDENED_SETTINGS,
  });
  const overrides = { keepCnt: 9, userTimeoutMs: 0, sendTimeoutMs: 250 };
  const args = [...base, "--keepcnt", "4", ...settingsFlags(overrides)];
  assert.deepEqual(parseLineServerArgs(args).settings, { ...HARDENED_SETTINGS, ...overrides });
  const usage = (args: string[], message: string) =>
    assert.throws(() => parseLineServerArgs(args), { name: "TypeError", message });
  usage(["--mode", "lazy"], 'Invalid --mode: "lazy" (expected "naive" or "hardened")');
  usage([...base, "--keepidle", "0"], 'Invalid --keepidle: "0" (expected an integer >= 1)');
  usage(
    [...base, "--idle-timeout-ms", "1.5"],
    'Invalid --idle-timeout-ms: "1.5" (expected an integer >= 1)',
  );
  usage([...base, "--verbose"], 'Expected "--flag value" pairs, got: "--verbose"');
  usage([...base, "--colour", "red"], 'Unknown flag: "--colour"');
  usage(["--mode", "naive", "--port", "7070"], "Missing --address");
});

/** Runs `body` with the target started in a fresh lab; stops and tears down afterwards. */
async function withTarget(
  target: TargetDefinition,
  family: "v4" | "v6",
  body: (lab: Lab, server: RunningTarget) => Promise<void>,
): Promise<void> {
  const lab = await createLab();
  try {
    const server = await startTarget(target, lab, family);
    try {
      await body(lab, server);
    } finally {
      await server.stop();
    }
  } finally {
    await lab.teardown();
  }
}

/** The hardened target with some settings overridden on its command line. */
function hardenedWith(overrides: Partial<HardenedSettings>): TargetDefinition {
  return defineTarget({
    ...refHardened,
    start: (context) => {
      const spec = refHardened.start(context);
      return { ...spec, argv: [...spec.argv, ...settingsFlags(overrides)] };
    },
  });
}

/** Polls `probe` every 10 ms until it returns a value, for at most `timeoutMs`. */
async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = monotonicMs() + timeoutMs;
  for (let round = 0; round <= timeoutMs / POLL_MS; round++) {
    const value = await probe();
    if (value !== undefined) return value;
    if (monotonicMs() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`Timed out after "${timeoutMs}" ms waiting for ${what}`);
}

/** The server's connected sockets on its port (held by its own fds). */
function connectedSockets(server: RunningTarget): SocketEntry[] {
  const own = socketFds(server.pid);
  return readSocketTable(server.pid).filter((entry) =>
    entry.state !== "LISTEN" && entry.local.port === server.port && own.has(entry.inode)
  );
}

/** A log line of the server matching `pattern`, waiting for it to appear. */
function logLine(server: RunningTarget, pattern: RegExp, timeoutMs: number): Promise<string> {
  return waitFor(`a log line matching ${pattern}`, timeoutMs, async () => {
    const lines = (await Deno.readTextFile(server.logPath)).split("\n");
    return lines.find((line) => pattern.test(line));
  });
}

/** The monotonic time (ms) of an event line. */
function eventTime(line: string): number {
  return Number(/^t=([\d.]+) /.exec(line)?.[1]);
}

/** Sends BIG 64 MiB and waits until the server's send queue holds data: it is busy sending. */
async function requestBigAndStopReading(
  server: RunningTarget,
  client: LineClient,
  target: TargetDefinition,
): Promise<void> {
  await client.send(target.protocol.largeRequest!.send as string);
  await waitFor(
    "the server's send queue to fill",
    2000,
    () => connectedSockets(server).find((entry) => entry.txQueue > 0),
  );
}

for (const target of [refNaive, refHardened]) {
  Deno.test(`${target.id} speaks the line protocol over IPv4 and IPv6`, async () => {
    for (const family of ["v4", "v6"] as const) {
      await withTarget(target, family, async (lab, server) => {
        const client = await LineClient.connect(lab, server.address, server.port);
        try {
          await client.send("PING\n");
          assert.deepEqual(pick(await client.read("PONG\n", 2000)), ["ok", 5]);
          // The server waits for the rest of a partial request: nothing comes back meanwhile.
          await client.send(target.protocol.partialRequest as string);
          assert.deepEqual(pick(await client.read("\n", 300)), ["timeout", 0]);
          await client.send("NG\n");
          assert.deepEqual(pick(await client.read("PONG\n", 2000)), ["ok", 5]);
          await client.send("HELLO\n");
          assert.deepEqual(pick(await client.read("ERR\n", 2000)), ["ok", 4]);
          await client.send("BIG 100000\nBIG 0\n");
          const big = 100_000 + BIG_TRAILER.length;
          assert.deepEqual(pick(await client.read(BIG_TRAILER, 2000)), ["ok", big]);
          assert.deepEqual(pick(await client.read(BIG_TRAILER, 2000)), ["ok", BIG_TRAILER.length]);
        } finally {
          await client.close();
        }
      });
    }
  });
}

function pick(result: { outcome: string; bytes: number }): [string, number] {
  return [result.outcome, result.bytes];
}

Deno.test("ref-hardened arms keepalive on an idle connection; ref-naive does not", async () => {
  for (const target of [refHardened, refNaive]) {
    await withTarget(target, "v6", async (lab, server) => {
      const client = await LineClient.connect(lab, server.address, server.port);
      try {
        await client.send("PING\n");
        assert.equal((await client.read("PONG\n", 2000)).outcome, "ok");
        // Once the client has acknowledged PONG, the only timer left is keepalive's, if any.
        const socket = await waitFor(
          "the PONG to be acknowledged",
          1000,
          () => connectedSockets(server).find((entry) => entry.timer !== "retransmit"),
        );
        console.log(`${target.id}: timer ${socket.timer} ${socket.timerMs} ms`);
        if (target === refNaive) {
          assert.equal(socket.timer, "none");
          return;
        }
        assert.equal(socket.timer, "keepalive");
        // /proc shows the expiry in 10 ms ticks, rounded: allow one tick over.
        const idleMs = HARDENED_SETTINGS.keepIdleSeconds * 1000;
        assert.ok(socket.timerMs > 0 && socket.timerMs <= idleMs + 10, `${socket.timerMs} ms`);
        const s = HARDENED_SETTINGS;
        const accept = await logLine(server, /event=accept /, 1000);
        assert.ok(
          accept.endsWith(
            ` keepalive=1 keepidle=${s.keepIdleSeconds} keepintvl=${s.keepIntvlSeconds}` +
              ` keepcnt=${s.keepCnt} user_timeout_ms=${s.userTimeoutMs}`,
          ),
          accept,
        );
      } finally {
        await client.close();
      }
    });
  }
});

Deno.test("ref-naive dies of SIGPIPE when a client aborts mid-response; ref-hardened lives", async () => {
  for (const target of [refNaive, refHardened]) {
    await withTarget(target, "v4", async (lab, server) => {
      const victim = await LineClient.connect(lab, server.address, server.port);
      try {
        await requestBigAndStopReading(server, victim, target);
        await victim.abort();
      } finally {
        await victim.close();
      }
      if (target === refNaive) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const status = await Promise.race([
          server.child.status,
          new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), 5000)),
        ]);
        clearTimeout(timer);
        const log = await Deno.readTextFile(server.logPath);
        console.log(`ref-naive after the RST: ${JSON.stringify(status)}\n${log.trimEnd()}`);
        assert.equal(status?.signal, "SIGPIPE");
        return;
      }
      console.log(await logLine(server, /event=close .*reason=error/, 2000));
      const other = await LineClient.connect(lab, server.address, server.port);
      try {
        await other.send("PING\n");
        assert.equal((await other.read("PONG\n", 2000)).outcome, "ok");
      } finally {
        await other.close();
      }
      assert.equal(server.child.exited, undefined, "ref-hardened is still running");
    });
  }
});

Deno.test("ref-naive's blocking write stalls other clients; ref-hardened serves them", async () => {
  for (const target of [refNaive, refHardened]) {
    await withTarget(target, "v4", async (lab, server) => {
      const stalled = await LineClient.connect(lab, server.address, server.port);
      const other = await LineClient.connect(lab, server.address, server.port);
      try {
        await requestBigAndStopReading(server, stalled, target);
        await other.send("PING\n");
        // 1 s is ample for a PONG on this host (it takes milliseconds), and long enough to
        // show that the naive server does not answer while its write is blocked.
        const reply = await other.read("PONG\n", 1000);
        console.log(`${target.id}: PING while another client stalls → ${reply.outcome}`);
        assert.equal(reply.outcome, target === refNaive ? "timeout" : "ok");
      } finally {
        await other.close();
        await stalled.close();
      }
    });
  }
});

Deno.test("ref-hardened's timeouts: idle and partial request close with FIN, stalled send aborts with RST", async () => {
  // Distinct, short values so each close is attributable to one timeout.
  const settings = { idleTimeoutMs: 600, requestTimeoutMs: 400, sendTimeoutMs: 500 };
  // The server's clock starts between two moments the test takes (`from` no later, `to` no
  // earlier), all on the monotonic clock every process shares. The lower bound counts from
  // `from`: the timeout itself, less 20 ms for the clock's rounding; no load can break it. The
  // upper bound counts from `to`, with 500 ms for the fixture's wake-up and the server's own
  // poll on a busy host.
  const slackMs = 500;
  const within = (endAt: number, from: number, to: number, timeoutMs: number) =>
    assert.ok(
      endAt - from >= timeoutMs - 20 && endAt - to <= timeoutMs + slackMs,
      `${endAt - from} to ${endAt - to} ms for ${timeoutMs} ms`,
    );
  await withTarget(hardenedWith(settings), "v4", async (lab, server) => {
    // The idle timeout runs from the server's last answer.
    const idle = await LineClient.connect(lab, server.address, server.port);
    try {
      const asked = monotonicMs();
      await idle.send("PING\n");
      assert.equal((await idle.read("PONG\n", 2000)).outcome, "ok");
      const answered = monotonicMs();
      const end = await idle.drain(3000);
      assert.equal(end.outcome, "eof", "closed with FIN");
      within(end.at, asked, answered, settings.idleTimeoutMs);
    } finally {
      await idle.close();
    }

    // The request timeout runs from the request's first bytes.
    const partial = await LineClient.connect(lab, server.address, server.port);
    try {
      const sending = monotonicMs();
      await partial.send("PI");
      const sent = monotonicMs();
      const end = await partial.drain(3000);
      assert.equal(end.outcome, "eof", "closed with FIN");
      within(end.at, sending, sent, settings.requestTimeoutMs);
    } finally {
      await partial.close();
    }

    const stalled = await LineClient.connect(lab, server.address, server.port);
    try {
      const sentAt = monotonicMs();
      await requestBigAndStopReading(server, stalled, refHardened);
      const timeout = await logLine(server, /event=timeout .*kind=send/, 3000);
      // The last write progress comes when the buffers fill, a few ms after the request.
      within(eventTime(timeout), sentAt, sentAt, settings.sendTimeoutMs);
      await logLine(server, /event=close .*reason=send-timeout how=rst/, 1000);
      const end = await stalled.drain(3000);
      assert.deepEqual([end.outcome, end.errno], ["error", "ECONNRESET"]);
    } finally {
      await stalled.close();
    }
    assert.deepEqual(connectedSockets(server), [], "every connection is freed");
    console.log((await Deno.readTextFile(server.logPath)).trimEnd());
  });
});
