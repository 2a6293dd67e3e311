/**
 * Run by the `etcd` target's `prepare` in the server host: waits until the member answers
 * `/health` (it listens before it has elected itself leader), then puts the keys the large
 * request reads, through the HTTP/JSON gateway. Usage: `load_large_range.ts ADDRESS PORT`.
 * Exits 1 with a message when etcd does not become healthy or refuses a put.
 *
 * Permissions: `--allow-net`.
 *
 * @module
 */

import { keyOf, KEYS, VALUE_BYTES } from "./range_response.ts";

/** How long the member may take to become healthy. */
const HEALTHY_WITHIN_MS = 20_000;

async function healthy(base: string): Promise<boolean> {
  const deadline = Date.now() + HEALTHY_WITHIN_MS;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/health`);
      const body = await response.text();
      if (response.ok && JSON.parse(body).health === "true") return true;
    } catch {
      // not answering yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function main([address, port]: string[]): Promise<number> {
  if (!address || !port) {
    console.error("Usage: load_large_range.ts ADDRESS PORT");
    return 2;
  }
  const base = `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
  if (!(await healthy(base))) {
    console.error(`etcd at "${base}" did not become healthy within "${HEALTHY_WITHIN_MS}" ms`);
    return 1;
  }
  const value = btoa("x".repeat(VALUE_BYTES));
  // One at a time: key i gets revision i + 2, which the response size counts on.
  for (let i = 0; i < KEYS; i++) {
    const response = await fetch(`${base}/v3/kv/put`, {
      method: "POST",
      body: JSON.stringify({ key: btoa(keyOf(i)), value }),
    });
    const body = await response.text();
    if (!response.ok) {
      console.error(`Put of "${keyOf(i)}" failed: "${response.status}" ${body.slice(0, 200)}`);
      return 1;
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
