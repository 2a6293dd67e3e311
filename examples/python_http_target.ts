/**
 * An example of a user's own target: Python's built-in HTTP server. Certify it with
 * `deno task certify ./examples/python_http_target.ts` (or `suite <id> --target <path>`).
 *
 * http.server speaks HTTP/1.0 by default: it closes each connection after its response,
 * sets no keepalive and no timeouts, and handles each connection in its own thread.
 *
 * @module
 */

import { defineTarget } from "../mod.ts";

const LARGE_BYTES = 64 * 1024 * 1024;
const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: lab\r\n\r\n`;

export default defineTarget({
  id: "python-http",
  title: "Python http.server (an example of your own target)",
  install: { binary: "python3", debianPackage: "python3" },
  port: 8000,
  start: ({ address, port, dir }) => ({
    argv: [
      "python3",
      "-m",
      "http.server",
      "--bind",
      address,
      "--directory",
      `${dir}/www`,
      String(port),
    ],
    // Written into the lab's own directory before the server starts.
    files: { "www/small.txt": "hello from clientdown\nEND\n" },
    // Run in the server host once it listens: a sparse file costs no memory.
    prepare: [["truncate", "-s", String(LARGE_BYTES), `${dir}/www/large.bin`]],
  }),
  protocol: {
    request: { send: request("/small.txt"), until: "END\n" },
    partialRequest: "GET /small.txt HTTP/1.1\r\nHost: lab\r\n",
    largeRequest: { send: request("/large.bin"), responseBytes: LARGE_BYTES },
  },
  knobs: { "keepalive": "off", "timeouts": "none" },
});
