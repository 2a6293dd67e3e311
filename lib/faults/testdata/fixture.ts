/**
 * Test helpers: the server and client fixtures as tracked children that speak JSON lines,
 * and a bounded wait for a condition.
 *
 * @module
 */

import { type Child, spawn } from "../../process/spawn.ts";
import { readSocketTable, type SocketEntry } from "../../observe/proc_net_tcp.ts";
import { CLIENT, SERVER } from "../../lab/address_plan.ts";
import type { Lab } from "../../lab/lab.ts";

/** One JSON line a fixture printed. */
export type FixtureEvent = Record<string, unknown> & { event: string };

/** A fixture process: its events as they arrive, commands on its stdin. */
export class Fixture {
  readonly child: Child;
  readonly events: FixtureEvent[] = [];
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pump: Promise<void>;

  constructor(netns: string, script: "server.ts" | "client.ts", args: readonly string[]) {
    const path = new URL(`./${script}`, import.meta.url).pathname;
    const child = spawn([Deno.execPath(), "run", "-A", path, ...args], {
      netns,
      // Deno's update check would send DNS queries out of the lab host.
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    });
    this.child = child;
    this.#writer = child.process.stdin.getWriter();
    this.#pump = (async () => {
      let pending = "";
      for await (const chunk of child.process.stdout.pipeThrough(new TextDecoderStream())) {
        pending += chunk;
        for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
          this.events.push(JSON.parse(pending.slice(0, nl)));
          pending = pending.slice(nl + 1);
        }
      }
    })();
  }

  /** The fixture's pid (`nsenter` execs it in place). */
  get pid(): number {
    return this.child.pid;
  }

  /** The first event (seen so far or yet to come) that matches; throws after `timeoutMs`. */
  async waitFor(
    match: (event: FixtureEvent) => boolean,
    what: string,
    timeoutMs = 5000,
  ): Promise<FixtureEvent> {
    let found: FixtureEvent | undefined;
    await eventually(() => (found = this.events.find(match)) !== undefined, what, timeoutMs);
    return found as FixtureEvent;
  }

  /** Sends one command line. */
  async command(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(`${line}\n`));
  }

  /** Closes its stdin (the fixture exits), ends it if it lingers, waits for its output. */
  async stop(): Promise<void> {
    await this.#writer.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((r) => timer = setTimeout(r, 2000));
    await Promise.race([this.child.status, late]);
    clearTimeout(timer);
    await this.child.end(500);
    await this.#pump;
  }
}

/** Polls `condition` every 10 ms until it holds; throws after `timeoutMs`. */
export async function eventually(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A server fixture listening on SERVER (v4 and v6) at `port`, ready to accept. */
export async function startServer(lab: Lab, port: number): Promise<Fixture> {
  const server = new Fixture(lab.hosts.server, "server.ts", [String(port), SERVER.v4, SERVER.v6]);
  await server.waitFor((e) => e.event === "listening", "the server to listen");
  await eventually(
    () => readSocketTable(server.pid).filter((s) => s.state === "LISTEN").length === 2,
    "the server's listening sockets",
  );
  return server;
}

/** A client fixture connected from `local` to the server; resolves once both ends know it. */
export async function connectClient(
  lab: Lab,
  server: Fixture,
  port: number,
  options: { local?: string; family?: "v4" | "v6" } = {},
): Promise<{ client: Fixture; id: number; localPort: number }> {
  const family = options.family ?? "v4";
  const client = new Fixture(lab.hosts.client, "client.ts", [
    options.local ?? CLIENT[family],
    SERVER[family],
    String(port),
    "3000",
  ]);
  const connected = await client.waitFor(
    (e) => e.event === "connected" || e.event === "connect-failed",
    "the client to connect",
  );
  if (connected.event !== "connected") {
    await client.stop();
    throw new Error(`Client could not connect: ${JSON.stringify(connected)}`);
  }
  const localPort = (connected.local as { port: number }).port;
  const accepted = await server.waitFor(
    (e) => e.event === "accepted" && (e.remote as { port: number }).port === localPort,
    `the server to accept port ${localPort}`,
  );
  return { client, id: accepted.id as number, localPort };
}

/** One connection attempt from `local` to the server: "connected", or the error. */
export async function tryConnect(
  lab: Lab,
  local: string,
  server: string,
  port: number,
  timeoutMs: number,
): Promise<string> {
  const once = new Fixture(lab.hosts.client, "client.ts", [
    local,
    server,
    String(port),
    String(timeoutMs),
    "--once",
  ]);
  try {
    const result = await once.waitFor(
      (e) => e.event === "connected" || e.event === "connect-failed",
      "a connection attempt",
      timeoutMs + 5000,
    );
    return result.event === "connected" ? "connected" : String(result.error);
  } finally {
    await once.stop();
  }
}

/** The server's sockets connected to a peer at `remotePort`. */
export function serverSockets(server: Fixture, remotePort: number): SocketEntry[] {
  return readSocketTable(server.pid).filter((s) => s.remote.port === remotePort);
}
