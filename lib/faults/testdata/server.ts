/**
 * Test fixture run in the server host: listens on `<port>` at each `<address>`, accepts every
 * connection and reads it continuously. Prints one JSON event per line: listening, accepted
 * (id, remote), data (id, total bytes read), eof, error (id, op, Deno's error name), sent.
 * Commands on stdin, one per line: `send <id> <bytes>`. Exits when stdin closes.
 *
 * Usage: `server.ts <port> <address>...`
 *
 * @module
 */

const conns = new Map<number, Deno.TcpConn>();
let nextId = 1;

function emit(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}

async function readAll(id: number, conn: Deno.TcpConn): Promise<void> {
  const buf = new Uint8Array(65536);
  let total = 0;
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return emit({ event: "eof", id });
      total += n;
      emit({ event: "data", id, total });
    }
  } catch (error) {
    emit({ event: "error", id, op: "read", error: (error as Error).name });
  }
}

async function acceptAll(listener: Deno.TcpListener): Promise<void> {
  for await (const conn of listener) {
    const id = nextId++;
    conns.set(id, conn);
    const remote = conn.remoteAddr;
    emit({ event: "accepted", id, remote: { address: remote.hostname, port: remote.port } });
    readAll(id, conn);
  }
}

async function send(id: number, bytes: number): Promise<void> {
  const conn = conns.get(id);
  if (!conn) return emit({ event: "error", id, op: "send", error: "NoSuchConnection" });
  try {
    const data = new Uint8Array(bytes).fill(0x61);
    for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
    emit({ event: "sent", id, bytes });
  } catch (error) {
    emit({ event: "error", id, op: "write", error: (error as Error).name });
  }
}

if (import.meta.main) {
  const [port = "0", ...addresses] = Deno.args;
  for (const hostname of addresses) acceptAll(Deno.listen({ hostname, port: Number(port) }));
  emit({ event: "listening" });
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const chunk of lines) {
    pending += chunk;
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
      const [command, id, bytes] = pending.slice(0, nl).split(" ");
      pending = pending.slice(nl + 1);
      if (command === "send") send(Number(id), Number(bytes));
    }
  }
  Deno.exit(0);
}
