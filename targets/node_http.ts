/**
 * `node-http`: Node.js's built-in HTTP/1.1 server (`node:http`, the `nodejs` package's
 * /usr/bin/node) with every default, serving a static site from the lab directory through a
 * small script the target writes there. Node has no distribution configuration: the defaults
 * are the library's own (https://nodejs.org/api/http.html, `http.createServer` and `Server`):
 * - `server.keepAliveTimeout` 5000 ms: after a response, a keep-alive connection that brings no
 *   new request is destroyed (its FIN), so a client that vanished from an idle connection is
 *   released at about 5 s with Debian 12's Node 18.20.4; Node 20's _http_server.js arms the
 *   socket's timer with 1000 ms more (HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER, against races
 *   with clients that honour the advertised `Keep-Alive: timeout=5`): about 6 s where the
 *   `nodejs` package installed is a Node 20 (NodeSource's, as on some machines);
 * - `server.headersTimeout` 60000 ms and `server.requestTimeout` 300000 ms, checked every
 *   `connectionsCheckingInterval` 30000 ms: a request whose headers have not all arrived is
 *   answered 408 and closed between 60 and 90 s after it began (also a connection that never
 *   sends anything);
 * - `server.timeout` 0: no socket inactivity timeout, and nothing bounds the sending of a
 *   response: a vanished client mid-response is given up only by the kernel's retransmission
 *   timeout (tcp_retries2, about 924.6 s), and a client that keeps its window at zero holds
 *   its connection, and the file stream feeding it, forever;
 * - `keepAlive` false, `keepAliveInitialDelay` 0: no SO_KEEPALIVE on accepted sockets;
 *   `noDelay` true;
 * - `maxConnections` unset, `maxRequestsPerSocket` 0: no connection or request limits;
 * - `server.httpAllowHalfOpen` false (_http_server.js, not a documented option): when the
 *   client half-closes (FIN) after its request, Node ends its own side at once
 *   (`socket.end()` in socketOnEnd), so a response still being written is cut short;
 * - one event loop, non-blocking sockets, SIGPIPE ignored by Node at start: a dead client
 *   stalls no one else and a reset never kills the server.
 * The file is streamed with `stream.pipeline`, which honours back-pressure (a stalled client
 * costs one 64 KiB chunk of memory, not the whole file) and destroys the file stream when the
 * connection ends. The test checks these defaults on the installed Node. The `timeout-30s`
 * variant sets `server.setTimeout(30000)`: 30 s without socket activity destroys the
 * connection: exactly 30 s mid-request, and between 30 and 60 s mid-response, because net.js
 * re-arms a timer that fires while a write is pending once when the write queue's size changed
 * since the timer was armed (`kLastWriteQueueSize`). The script runs as
 * `nobody` (Debian has no user for a Node app; it needs none of root's rights on port 3000).
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import { defineTarget, type StartContext, type StartSpec } from "../lib/target/define_target.ts";
import { HTTP_PROTOCOL, MAKE_LARGE_FILE, SITE_FILES, SITE_ROOT } from "./http/static_site.ts";

/** Debian's `nodejs` package's program (not a Node installed elsewhere). */
const BINARY = "/usr/bin/node";
const SCRIPT = "node-http/server.js";

/**
 * The server: `node:http` with the options given as JSON (none by default), serving the files
 * of one directory with their Content-Length.
 */
const SERVER_JS =
  `// Written by clientdown: Node's built-in http server with its defaults, serving static files.
"use strict";
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { pipeline } = require("node:stream");

const [address, port, root, settingsJson] = process.argv.slice(2);
const settings = JSON.parse(settingsJson);

const server = http.createServer((req, res) => {
  const name = path.join(root, path.normalize(new URL(req.url, "http://x").pathname));
  fs.stat(name, (error, stat) => {
    if (error || !stat.isFile()) {
      res.writeHead(404, { "content-length": "0" });
      res.end();
      return;
    }
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": String(stat.size),
    });
    pipeline(fs.createReadStream(name), res, () => {});
  });
});
if (settings.timeoutMs !== undefined) server.setTimeout(settings.timeoutMs);
server.listen(Number(port), address);
`;

/** What a variant changes. */
interface Settings {
  /** `server.setTimeout(ms)`: socket inactivity timeout (default 0: none). */
  timeoutMs?: number;
}

function startWith(settings: Settings): (context: StartContext) => StartSpec {
  return ({ address, port, dir }) => ({
    files: { [SCRIPT]: SERVER_JS, ...SITE_FILES },
    argv: [
      "setpriv",
      "--reuid=nobody",
      "--regid=nogroup",
      "--clear-groups",
      "--",
      BINARY,
      `${dir}/${SCRIPT}`,
      address,
      String(port),
      `${dir}/${SITE_ROOT}`,
      JSON.stringify(settings),
    ],
    prepare: [MAKE_LARGE_FILE],
  });
}

/** Node.js's built-in http server with its defaults. */
export default defineTarget({
  id: "node-http",
  title: "Node.js http server (node:http defaults, static files)",
  install: { binary: BINARY, debianPackage: "nodejs" },
  port: 3000,
  runsAs: "nobody",
  start: startWith({}),
  version: async () => {
    const { stdout } = await run([BINARY, "--version"]);
    return stdout.trim().replace(/^v/, "");
  },
  protocol: HTTP_PROTOCOL,
  knobs: {
    "server.keepAliveTimeout":
      "5000 ms (Node 18; + a 1000 ms buffer in Node 20): idle keep-alive connection destroyed",
    "server.headersTimeout":
      "60000 ms, checked every connectionsCheckingInterval 30000 ms (408 and close)",
    "server.requestTimeout": "300000 ms (whole request), checked the same way",
    "server.timeout": "0 (no socket inactivity timeout; nothing bounds sending a response)",
    "keepAlive": "false (no SO_KEEPALIVE on accepted sockets)",
    "maxConnections / maxRequestsPerSocket": "unset / 0 (no limits)",
    "httpAllowHalfOpen": "false: a client's FIN ends the server's side, cutting a response short",
  },
  variants: {
    "timeout-30s": {
      title: "server.setTimeout(30000)",
      knobs: {
        "server.timeout": "30000 ms without activity, then destroyed (mid-response: 30 to 60 s)",
      },
      start: startWith({ timeoutMs: 30_000 }),
    },
  },
});
