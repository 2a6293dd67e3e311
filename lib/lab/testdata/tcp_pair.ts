// `listen <address> <port>`: accepts one connection and answers with the peer's address.
// `connect <address> <port>`: connects, prints what it read.
const [mode, hostname = "", port = "0"] = Deno.args;
if (mode === "listen") {
  const listener = Deno.listen({ hostname, port: Number(port) });
  const conn = await listener.accept();
  await conn.write(new TextEncoder().encode(`${(conn.remoteAddr as Deno.NetAddr).hostname}\n`));
  conn.close();
  listener.close();
} else {
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const buf = new Uint8Array(64);
  const n = await conn.read(buf);
  console.log(new TextDecoder().decode(buf.subarray(0, n ?? 0)).trim());
  conn.close();
}
