/**
 * `nginx`: Debian's nginx (package `nginx`) serving a static site over HTTP/1.1, with the
 * distribution's /etc/nginx/nginx.conf reproduced in the lab directory. Debian sets none of
 * the timeouts, so nginx's built-in defaults apply (ngx_http_core_module,
 * https://nginx.org/en/docs/http/ngx_http_core_module.html):
 * - `keepalive_timeout 75s`: an idle keep-alive connection is closed (FIN) after 75 s, so a
 *   client that vanished from an idle connection is released at about 75 s;
 * - `client_header_timeout 60s`: a request whose header has not fully arrived within 60 s is
 *   closed (a 408 that is not sent), so a partial request is released at about 60 s;
 * - `send_timeout 60s`: no write progress for 60 s between two successive writes closes the
 *   connection, so a vanished or frozen (zero-window) reader is given up on at about 60 s;
 * - `reset_timedout_connection off`: those closes are ordinary close() calls: unsent data
 *   stays with the kernel, which keeps retransmitting it from an orphaned socket;
 * - `listen ... so_keepalive` unset: no SO_KEEPALIVE, so TCP alone never notices an idle
 *   dead peer; nginx's own timers do.
 * nginx is event-driven and ignores SIGPIPE (ngx_signals): one dead client stalls no other,
 * and a reset mid-response ends only that connection. The master process (root) holds the
 * listening socket; `worker_processes auto` workers (www-data) hold the connections.
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import { defineTarget, type StartContext, type StartSpec } from "../lib/target/define_target.ts";
import {
  hostPort,
  HTTP_PROTOCOL,
  MAKE_LARGE_FILE,
  SITE_FILES,
  SITE_ROOT,
} from "./http/static_site.ts";

const BINARY = "/usr/sbin/nginx";

/** What a variant changes in the configuration. */
interface Tuning {
  /** `listen` parameter `so_keepalive=idle:intvl:cnt`. */
  soKeepalive?: string;
  /** `send_timeout` (Debian leaves it at nginx's 60s). */
  sendTimeout?: string;
}

/** nginx.conf as Debian ships it, with every path inside the lab directory. */
function nginxConfig({ address, port, dir }: StartContext, tuning: Tuning): string {
  const listen = hostPort(address, port) +
    (tuning.soKeepalive ? ` so_keepalive=${tuning.soKeepalive}` : "");
  // nginx creates only the last component of a temp path: each one sits in the lab directory.
  const temp = (kind: string) => `${kind}_temp_path ${dir}/nginx-${kind}-temp;`;
  return [
    "user www-data;",
    "worker_processes auto;",
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/nginx-error.log;`,
    // The runner needs the server itself in the foreground, not a daemon.
    "daemon off;",
    "events {",
    "  worker_connections 768;",
    "}",
    "http {",
    "  sendfile on;",
    "  tcp_nopush on;",
    "  types_hash_max_size 2048;",
    "  include /etc/nginx/mime.types;",
    "  default_type application/octet-stream;",
    `  access_log ${dir}/nginx-access.log;`,
    "  gzip on;",
    ...(tuning.sendTimeout ? [`  send_timeout ${tuning.sendTimeout};`] : []),
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `  ${temp(kind)}`),
    "  server {",
    `    listen ${listen} default_server;`,
    `    root ${dir}/${SITE_ROOT};`,
    "    server_name _;",
    "    location / {",
    "      try_files $uri $uri/ =404;",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}

function startWith(tuning: Tuning): (context: StartContext) => StartSpec {
  return (context) => ({
    // -e: the error log before the configuration is read, else /var/log/nginx/error.log.
    argv: [BINARY, "-e", `${context.dir}/nginx-error.log`, "-c", `${context.dir}/nginx.conf`],
    files: { "nginx.conf": nginxConfig(context, tuning), ...SITE_FILES },
    prepare: [MAKE_LARGE_FILE],
  });
}

/** `nginx -v` prints `nginx version: nginx/1.22.1` on stderr. */
async function version(): Promise<string> {
  const { stdout, stderr } = await run([BINARY, "-v"]);
  return /nginx\/(\S+)/.exec(stderr + stdout)?.[1] ?? "unknown";
}

const KNOBS = {
  "keepalive_timeout": "75s (nginx default; idle keep-alive connection closed with FIN)",
  "client_header_timeout": "60s (nginx default; partial request header closed)",
  "client_body_timeout": "60s (nginx default)",
  "send_timeout": "60s (nginx default; no write progress, then close)",
  "reset_timedout_connection": "off (timed-out connections are closed, not reset)",
  "so_keepalive": "off (no SO_KEEPALIVE on the listening or accepted sockets)",
};

/** nginx with Debian's configuration, and variants for keepalive probes and send_timeout. */
export default defineTarget({
  id: "nginx",
  title: "nginx (Debian package, HTTP/1.1 static files)",
  install: { binary: BINARY, debianPackage: "nginx" },
  port: 80,
  runsAs: "www-data",
  start: startWith({}),
  version,
  protocol: HTTP_PROTOCOL,
  knobs: KNOBS,
  variants: {
    "so-keepalive": {
      title: "listen so_keepalive=30s:10s:3",
      knobs: { "so_keepalive": "30s:10s:3 (TCP_KEEPIDLE 30, TCP_KEEPINTVL 10, TCP_KEEPCNT 3)" },
      start: startWith({ soKeepalive: "30s:10s:3" }),
    },
    "send-timeout-10s": {
      title: "send_timeout 10s",
      knobs: { "send_timeout": "10s (no write progress for 10 s, then close)" },
      start: startWith({ sendTimeout: "10s" }),
    },
  },
});
