/**
 * Test helpers for inspect's real-kernel tests: the option server fixture in the lab's server
 * host, and clients in the client host that idle, read everything, never read, or close.
 *
 * @module
 */

import type { LabHosts } from "../../lab/lab.ts";
import { type Child, spawn } from "../../process/spawn.ts";
import { readSocketTable } from "../../observe/proc_net_tcp.ts";

const FIXTURE = new URL("./option_server.py", import.meta.url).pathname;

/** Bounds every wait for the other side to be ready. */
const READY_TIMEOUT_MS = 10_000;

/**
 * Starts option_server.py in the server host with `flags` and waits until it listens; `user`
 * runs it as another user (with the system's python3, which every user may run).
 */
export async function startOptionServer(
  hosts: LabHosts,
  address: string,
  port: number,
  flags: readonly string[],
  user?: number,
): Promise<Child> {
  const python = user === undefined
    ? ["python3"]
    : ["setpriv", `--reuid=${user}`, `--regid=${user}`, "--clear-groups", "/usr/bin/python3"];
  const child = spawn(
    [...python, FIXTURE, "--address", address, "--port", String(port), ...flags],
    { netns: hosts.server, stderr: "inherit" },
  );
  await until(
    () => readSocketTable(child.pid).some((s) => s.state === "LISTEN" && s.local.port === port),
    `option server listening on port "${port}"`,
    child,
  );
  return child;
}

/** What a test client does once connected. */
export type ClientMode = "idle" | "read" | "no-read" | "close" | "big";

const CLIENT = `
import socket, sys, time
address, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
if mode == "no-read":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((address, port))
print(s.getsockname()[1], flush=True)
deadline = time.monotonic() + 120
if mode == "close":
    s.close()
if mode == "big":
    # A hundred large responses, read as fast as they come: the server is still sending when
    # the test makes the client vanish, with the window open (no zero window).
    s.sendall(b"BIG 67108864\\n" * 100)
while time.monotonic() < deadline:
    if mode in ("read", "big"):
        s.settimeout(1)
        try:
            s.recv(65536)
        except OSError:
            pass
    else:
        time.sleep(0.5)
`;

/** A client in the client host; resolves once connected, with its local port. */
export async function startClient(
  hosts: LabHosts,
  address: string,
  port: number,
  mode: ClientMode,
): Promise<{ child: Child; port: number }> {
  const child = spawn(["python3", "-c", CLIENT, address, String(port), mode], {
    netns: hosts.client,
    stdout: "piped",
    stderr: "inherit",
  });
  const reader = child.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), READY_TIMEOUT_MS));
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
  const local = Number(text.split("\n")[0]);
  if (!Number.isInteger(local) || local <= 0) {
    await child.end();
    throw new Error(`Client did not connect to "${address}" port "${port}"`);
  }
  return { child, port: local };
}

/** Waits until `done()` holds, every 20 ms, at most READY_TIMEOUT_MS (or `timeoutMs`). */
export async function until(
  done: () => boolean,
  what: string,
  child?: Child,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (done()) return;
    if (child?.exited) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (child) await child.end();
  throw new Error(`Timed out waiting for ${what}`);
}
