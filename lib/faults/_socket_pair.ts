/**
 * Run by the capability probe inside its scratch namespace: holds one connected TCP pair on
 * loopback, prints the listening port as JSON, and exits when its stdin closes.
 *
 * @module
 */

if (import.meta.main) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  console.log(JSON.stringify({ port: listener.addr.port }));
  await Deno.stdin.readable.pipeTo(new WritableStream());
  // A destroyed socket keeps its fd: closing it is still ours to do.
  for (const resource of [client, server, listener]) resource.close();
}
