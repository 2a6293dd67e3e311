/**
 * Test helpers for the observers' real-kernel tests: the keepalive fixture server in the
 * lab's server host, a client that connects and stays idle in the client host, and a drop
 * of one client address at the router.
 *
 * @module
 */

import type { LabHosts } from "../../lab/lab.ts";
import { readSocketTable, socketFds } from "../proc_net_tcp.ts";
import { type Child, run, spawn } from "../../process/spawn.ts";

const FIXTURE = new URL("./keepalive_server.ts", import.meta.url).pathname;

/** Bounds every helper's wait for the other side to be ready. */
const READY_TIMEOUT_MS = 10_000;

/** Starts the keepalive fixture in the server host and waits until it listens. */
export async function startKeepaliveServer(
  hosts: LabHosts,
  address: string,
  port: number,
): Promise<Child> {
  const child = spawn([
    Deno.execPath(),
    "run",
    "--allow-ffi",
    FIXTURE,
    address,
    String(port),
    "60000",
  ], {
    netns: hosts.server,
    stderr: "inherit",
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !child.exited) {
    const listening = readSocketTable(child.pid).some((s) =>
      s.state === "LISTEN" && s.local.port === port && socketFds(child.pid).has(s.inode)
    );
    if (listening) return child;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await child.end();
  throw new Error(`Keepalive fixture did not listen on port "${port}"`);
}

/** A connected client in the client host that sends only what it is told to. */
export interface IdleClient {
  child: Child;
  /** The client's own address and port, as the server sees them. */
  local: { address: string; port: number };
  /** Sends these bytes to the server. */
  send(text: string): Promise<void>;
  /** Ends the client process. */
  end(): Promise<void>;
}

/** Connects from the client host with Deno.connect; sends what `send` gives it, else idles. */
export async function connectIdleClient(
  hosts: LabHosts,
  address: string,
  port: number,
): Promise<IdleClient> {
  const code = `
    const conn = await Deno.connect({ hostname: ${JSON.stringify(address)}, port: ${port} });
    const addr = conn.localAddr;
    console.log(JSON.stringify({ address: addr.hostname, port: addr.port }));
    setTimeout(() => Deno.exit(0), 60000);
    (async () => { for await (const chunk of Deno.stdin.readable) await conn.write(chunk); })();
    await conn.read(new Uint8Array(1)).catch(() => null);
    Deno.exit(0);
  `;
  const child = spawn([Deno.execPath(), "eval", code], {
    netns: hosts.client,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  });
  const writer = child.process.stdin.getWriter();
  const end = async () => {
    await writer.close().catch(() => {});
    await child.end();
  };
  const reader = child.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) =>
    timer = setTimeout(() => resolve("late"), READY_TIMEOUT_MS)
  );
  try {
    while (!text.includes("\n")) {
      const chunk = await Promise.race([reader.read(), late]);
      if (chunk === "late" || chunk.done) break;
      text += chunk.value;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel();
  }
  const line = text.split("\n")[0] ?? "";
  if (!line) {
    await end();
    throw new Error(`Client did not connect to "${address}" port "${port}"`);
  }
  return {
    child,
    local: JSON.parse(line),
    send: (data) => writer.write(new TextEncoder().encode(data)),
    end,
  };
}

/** Drops every packet from and to `address` in the router's forward chain (IPv4). */
export async function dropAtRouter(hosts: LabHosts, address: string): Promise<void> {
  await run(["nft", "-f", "-"], {
    netns: hosts.router,
    input: `table ip observe_test_drop {
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip saddr ${address} drop
    ip daddr ${address} drop
  }
}
`,
  });
}
