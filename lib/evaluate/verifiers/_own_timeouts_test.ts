import assert from "node:assert/strict";
import { ownTimeoutsBefore } from "./_own_timeouts.ts";

Deno.test("own timeouts: the knobs set to a non-zero duration shorter than the kernel's, shortest first", () => {
  const nginx = {
    keepalive_timeout: "75s (nginx default; idle keep-alive connection closed with FIN)",
    send_timeout: "60s (nginx default; no write progress, then close)",
    so_keepalive: "off (no SO_KEEPALIVE)",
    "idle timeout": "0 (connections are never closed for being idle)",
    "request timeout": "30000 ms for a partial request",
    "ping_interval / ping_max": "2m / 2: PINGs",
    wait_timeout: "28800 s waiting for a command",
  };
  assert.deepEqual(ownTimeoutsBefore(nginx, 15.4 * 60_000), [
    "request timeout 30 s",
    "send_timeout 60 s",
    "keepalive_timeout 75 s",
    "ping_interval / ping_max 2 min",
  ]);
  assert.deepEqual(ownTimeoutsBefore(nginx, 60_000), ["request timeout 30 s"]);
  assert.deepEqual(ownTimeoutsBefore({}, Infinity), []);
});
