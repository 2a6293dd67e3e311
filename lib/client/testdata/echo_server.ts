/**
 * Test fixture: a line server. `PING\n` → `PONG\n`; `BIG <n>\n` → n bytes of `x`.
 * Usage: `echo_server.ts <address> <port> [<answers before it closes a connection> [<mode>]]`:
 * with `unanswered`, it closes on the request after those answers, reading it and answering
 * nothing (a server closing an idle kept-alive connection just as a request arrives); with
 * `farewell`, it sends a parting line (`421 Login timeout`) right before each close, as ProFTPD
 * does; `unanswered-farewell` does both. With `push` (and `0` answers, never closing), it
 * follows every answer with a line nobody asked for (`NOTE`), as a protocol's own ping does;
 * with `banner`, it greets each connection with `HELLO` before any request.
 *
 * It prints what each connection did on stdout (`ACCEPT <client port>`, `EOF <port>`,
 * `ERROR <error name> <port>`, `CLOSED <port>`), and keeps a connection whose client sent FIN
 * open, so a FIN leaves a CLOSE_WAIT socket the tests can tell from one an RST removed.
 *
 * @module
 */

const [hostname = "", port = "0", closeAfter, mode] = Deno.args;
const closeUnanswered = mode === "unanswered" || mode === "unanswered-farewell";
const farewell = mode === "farewell" || mode === "unanswered-farewell";
const push = mode === "push";
const banner = mode === "banner";
const answersPerConnection = closeAfter === undefined || closeAfter === "0"
  ? Infinity
  : Number(closeAfter);
const encoder = new TextEncoder();
const FAREWELL = "421 Login timeout\r\n";
const held: Deno.Conn[] = [];

function log(line: string): void {
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
}

async function writeBig(conn: Deno.Conn, bytes: number): Promise<void> {
  const chunk = new Uint8Array(65536).fill(0x78);
  for (let left = bytes; left > 0; left -= chunk.length) {
    await conn.write(chunk.subarray(0, Math.min(left, chunk.length)));
  }
}

async function serve(conn: Deno.Conn<Deno.NetAddr>): Promise<void> {
  const peer = conn.remoteAddr.port;
  log(`ACCEPT ${peer}`);
  if (banner) await conn.write(encoder.encode("HELLO\n"));
  const buf = new Uint8Array(4096);
  let pending = "";
  let answers = 0;
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) {
        log(`EOF ${peer}`);
        held.push(conn);
        return;
      }
      pending += new TextDecoder().decode(buf.subarray(0, n));
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const big = /^BIG (\d+)$/.exec(line);
        if (closeUnanswered && answers >= answersPerConnection) {
          if (farewell) await conn.write(encoder.encode(FAREWELL));
          conn.close();
          log(`CLOSED UNANSWERED ${peer}`);
          return;
        }
        if (line === "PING") await conn.write(encoder.encode(push ? "PONG\nNOTE\n" : "PONG\n"));
        else if (big) await writeBig(conn, Number(big[1]));
        if (++answers >= answersPerConnection && !closeUnanswered) {
          if (farewell) await conn.write(encoder.encode(FAREWELL));
          conn.close();
          log(`CLOSED ${peer}`);
          return;
        }
      }
    }
  } catch (error) {
    log(`ERROR ${error instanceof Error ? error.name : error} ${peer}`);
    conn.close();
  }
}

for await (const conn of Deno.listen({ hostname, port: Number(port) })) serve(conn);
