/**
 * Test helpers: the echo server (echo_server.ts) started in a lab's server host, and a
 * bounded wait for a condition.
 *
 * @module
 */

import { SERVER } from "../../lab/address_plan.ts";
import type { Family } from "../../lab/address_plan.ts";
import type { Lab } from "../../lab/lab.ts";
import { readSocketTable, type SocketEntry, socketFds } from "../../observe/proc_net_tcp.ts";
import { type Child, spawn } from "../../process/spawn.ts";

const ECHO_SERVER = new URL("./echo_server.ts", import.meta.url).pathname;

/** The lines of a byte stream, without their newline; the last one even when unterminated. */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
  if (pending) yield pending;
}

/** Polls `condition` every 5 ms until it returns a value other than undefined or false. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  condition: () => T | undefined | false,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (let i = 0; i < 100_000 && performance.now() < end; i++) {
    const value = condition();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`Timed out after "${timeoutMs}" ms waiting for ${what}`);
}

/** A running echo server and what it printed. */
export interface EchoServer {
  child: Child;
  address: string;
  port: number;
  /** Its stdout lines so far (`ACCEPT 40000`, `EOF 40000`, ...). */
  lines: string[];
  /** Ends it and waits for it. */
  stop(): Promise<void>;
}

/** Starts the echo server in the lab's server host and waits until it listens. */
export async function startEchoServer(
  lab: Pick<Lab, "hosts">,
  family: Family,
  options: {
    port?: number;
    closeAfter?: number;
    /** How it closes after `closeAfter` answers: see echo_server.ts. */
    mode?: "unanswered" | "farewell" | "unanswered-farewell" | "push" | "banner";
  } = {},
): Promise<EchoServer> {
  const address = SERVER[family];
  const port = options.port ?? 7000;
  const argv = [Deno.execPath(), "run", "--allow-all", ECHO_SERVER, address, String(port)];
  if (options.closeAfter !== undefined) argv.push(String(options.closeAfter));
  if (options.mode) argv.push(options.mode);
  const child = spawn(argv, { netns: lab.hosts.server, stdout: "piped", stderr: "inherit" });
  const lines: string[] = [];
  const reading = (async () => {
    for await (const line of readLines(child.process.stdout)) lines.push(line);
  })();
  const stop = async () => {
    await child.end();
    await reading;
  };
  try {
    await waitFor(
      `the echo server to listen on "${port}"`,
      10_000,
      () =>
        readSocketTable(child.pid).some((s) =>
          s.state === "LISTEN" && s.local.port === port && socketFds(child.pid).has(s.inode)
        ),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, address, port, lines, stop };
}

/** Waits (at most 2 s) for an established connection on the echo server's side. */
export function serverConnection(server: EchoServer): Promise<SocketEntry> {
  return waitFor(
    "an established connection at the echo server",
    2000,
    () =>
      readSocketTable(server.child.pid).find((s) =>
        s.local.port === server.port && s.state === "ESTABLISHED"
      ),
  );
}
