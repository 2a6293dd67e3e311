/**
 * `etcd`: the etcd key-value store from Debian's etcd-server package, one member, run as user
 * etcd as Debian's service runs it (`etcd $DAEMON_ARGS` with /etc/default/etcd, where every
 * setting is left at etcd's default). The lab changes only: the client URL (the lab address,
 * port 2379; etcd's default is localhost), the data directory (in the lab directory, instead of
 * /var/lib/etcd/default) and the member's name, which Debian's unit sets to the host name and
 * the lab leaves at etcd's own "default", so that the IDs in every answer are the same in every
 * lab. Peers stay on etcd's default, localhost:2380 inside the server host. The clients speak
 * HTTP/1.1 to the JSON gateway on the client port (gRPC, HTTP/2, shares it).
 *
 * Documented behaviour toward dead clients (etcd 3.4 configuration flags; embed/etcd.go,
 * embed/serve.go, pkg/transport/keepalive_listener.go of v3.4.23):
 * - client connections get SO_KEEPALIVE with a 30 s period (keepaliveListener:
 *   TCP_KEEPIDLE 30 s, TCP_KEEPINTVL 30 s) and the OS's TCP_KEEPCNT 9: the kernel aborts a
 *   vanished idle client 30 + 9 × 30 = 300 s after the last traffic;
 * - the HTTP server has no ReadTimeout, WriteTimeout or IdleTimeout (embed/serve.go builds it
 *   with a handler only): an idle keep-alive connection, a partial request or a stalled
 *   response is never ended by etcd itself; etcd has no flag that sets them;
 * - no TCP_USER_TIMEOUT: a vanished client mid-response is given up only by the kernel's
 *   retransmission timeout (tcp_retries2, about 924.6 s); a client that keeps its window at
 *   zero holds its connection, and the answer buffered for it, forever;
 * - `--grpc-keepalive-interval` 2h, `--grpc-keepalive-timeout` 20s,
 *   `--grpc-keepalive-min-time` 5s: HTTP/2 PINGs for gRPC clients only, not the HTTP/1.1
 *   clients tested here;
 * - connections are limited only by the file descriptor limit (transport.LimitListener);
 *   one goroutine per connection, SIGPIPE harmless to a Go program on a socket: a dead client
 *   stalls no one else. `--max-request-bytes` 1.5 MiB bounds a request, not a response.
 * The certification is expected to find idle vanished clients and clients gone mid-request
 * released about 300 s after the last traffic (keepalive), vanished clients mid-response after
 * about 924.6 s, frozen and silent clients never released. No flag of etcd changes this for
 * HTTP/1.1 clients, so there is no tuned variant.
 *
 * The exchanges: the request is `GET /version` (answered with the versions, a small JSON body
 * with Content-Length); the partial request is part of its request line and headers; the large
 * request is a range read over 51 keys of 1 MB each that `prepare` put, answered as one JSON
 * document of 68 MB (values in base64) in one chunk (see etcd/range_response.ts).
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import { defineTarget, type StartContext, type StartSpec } from "../lib/target/define_target.ts";
import { RANGE_REQUEST, rangeResponseBytes } from "./etcd/range_response.ts";

const BINARY = "/usr/bin/etcd";
const LOAD_SCRIPT = decodeURIComponent(
  new URL("./etcd/load_large_range.ts", import.meta.url).pathname,
);

function start({ address, port, dir }: StartContext): StartSpec {
  const url = `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
  return {
    // Debian's unit runs `etcd $DAEMON_ARGS` as User=etcd, which owns its data directory.
    // setpriv execs it, keeping the pid; its log is stderr.
    argv: [
      "sh",
      "-c",
      'mkdir -p -m 0700 "$1" && chown etcd:etcd "$1" && shift && exec "$@"',
      "sh",
      `${dir}/etcd`,
      "setpriv",
      "--reuid=etcd",
      "--regid=etcd",
      "--init-groups",
      "--",
      BINARY,
      "--name",
      "default",
      "--data-dir",
      `${dir}/etcd/default`,
      "--listen-client-urls",
      url,
      "--advertise-client-urls",
      url,
    ],
    prepare: [[Deno.execPath(), "run", "--allow-net", LOAD_SCRIPT, address, String(port)]],
  };
}

/** etcd with Debian's configuration (etcd's defaults). */
export default defineTarget({
  id: "etcd",
  title: "etcd key-value store, HTTP/1.1 gateway (Debian etcd-server, distribution defaults)",
  install: { binary: BINARY, debianPackage: "etcd-server" },
  port: 2379,
  runsAs: "etcd",
  start,
  version: async () => {
    // "etcd Version: 3.4.23", then the git SHA and Go's version.
    const { stdout } = await run([BINARY, "--version"]);
    return /etcd Version: (\S+)/.exec(stdout)?.[1] ?? "unknown";
  },
  protocol: {
    request: {
      send: "GET /version HTTP/1.1\r\nHost: etcd\r\n\r\n",
      until: '"etcdcluster":"3.4.0"}',
    },
    partialRequest: "GET /version HTTP/1.1\r\nHo",
    largeRequest: { send: RANGE_REQUEST, responseBytes: rangeResponseBytes() },
  },
  knobs: {
    "SO_KEEPALIVE": "on: TCP_KEEPIDLE 30 s, TCP_KEEPINTVL 30 s (keepaliveListener), the OS's " +
      "TCP_KEEPCNT 9",
    "HTTP read / write / idle timeouts": "none (not configurable)",
    "TCP_USER_TIMEOUT": "unset",
    "--grpc-keepalive-interval / -timeout / -min-time": "2h / 20s / 5s (gRPC clients only)",
    "connections": "limited only by the file descriptor limit, not per address",
  },
});
