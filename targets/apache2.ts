/**
 * `apache2`: Debian's Apache HTTP Server (package `apache2`, event MPM) serving a static site
 * over HTTP/1.1, with the timeouts of the distribution's /etc/apache2/apache2.conf and of the
 * modules it enables (mpm_event, reqtimeout) reproduced in a generated httpd.conf in the lab
 * directory (https://httpd.apache.org/docs/2.4/mod/core.html, mod_reqtimeout.html):
 * - `KeepAliveTimeout 5`: an idle keep-alive connection is closed after 5 s, so a client that
 *   vanished from an idle connection is released at about 5 s;
 * - `RequestReadTimeout header=20-40,minrate=500`: a request header must arrive within 20 s
 *   (extended by 1 s per 500 bytes received, up to 40 s), else a 408 and a close, so a
 *   partial request is released at about 20 s;
 * - `Timeout 300`: a write that makes no progress for 300 s ends the connection, so a
 *   vanished or frozen (zero-window) reader is given up on at about 5 min;
 * - SO_KEEPALIVE on every listening socket (server/listen.c), inherited by accepted ones,
 *   with the OS's 7200/75/9: the kernel alone would drop an idle dead peer after 2 h 11 min,
 *   long after the timeouts above;
 * - `AcceptFilter http data` (the default on Linux): TCP_DEFER_ACCEPT of 30 s on the
 *   listener, so a connection that has sent nothing is not handed to Apache at all: the
 *   kernel keeps it half-open, retransmitting its SYN-ACK, until data arrives or about 30 s
 *   have passed. Until then Apache holds no fd for it, and no socket options can be read.
 * The parent process (root) holds the listening socket; its children (www-data, threads of
 * the event MPM) hold the connections. SIGPIPE is ignored: a reset mid-response ends only
 * that connection.
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

const BINARY = "/usr/sbin/apache2";
const MODULES = "/usr/lib/apache2/modules";

/** What a variant changes in the configuration. */
interface Tuning {
  /** `Timeout`, seconds (Debian: 300). */
  timeoutS?: number;
}

/** Debian's apache2.conf and enabled modules' settings, with every path inside the lab. */
function apacheConfig({ address, port, dir }: StartContext, tuning: Tuning): string {
  // The modules Debian enables that take part in serving these exchanges.
  const modules = ["mpm_event", "authz_core", "authz_host", "mime", "dir", "reqtimeout"];
  return [
    `ServerRoot ${dir}`,
    "ServerName clientdown.test",
    `DefaultRuntimeDir ${dir}`,
    `PidFile ${dir}/apache2.pid`,
    `Timeout ${tuning.timeoutS ?? 300}`,
    "KeepAlive On",
    "MaxKeepAliveRequests 100",
    "KeepAliveTimeout 5",
    "User www-data",
    "Group www-data",
    "HostnameLookups Off",
    `ErrorLog ${dir}/apache2-error.log`,
    "LogLevel warn",
    ...modules.map((name) => `LoadModule ${name}_module ${MODULES}/mod_${name}.so`),
    // mpm_event.conf
    "StartServers 2",
    "MinSpareThreads 25",
    "MaxSpareThreads 75",
    "ThreadLimit 64",
    "ThreadsPerChild 25",
    "MaxRequestWorkers 150",
    "MaxConnectionsPerChild 0",
    // reqtimeout.conf
    "RequestReadTimeout header=20-40,minrate=500",
    "RequestReadTimeout body=10,minrate=500",
    // mime.conf, dir.conf
    "TypesConfig /etc/mime.types",
    "DirectoryIndex index.html index.cgi index.pl index.php index.xhtml index.htm",
    `Listen ${hostPort(address, port)}`,
    `DocumentRoot ${dir}/${SITE_ROOT}`,
    "<Directory />",
    "  Options FollowSymLinks",
    "  AllowOverride None",
    "  Require all denied",
    "</Directory>",
    `<Directory ${dir}/${SITE_ROOT}>`,
    "  Options Indexes FollowSymLinks",
    "  AllowOverride None",
    "  Require all granted",
    "</Directory>",
    'LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined',
    `CustomLog ${dir}/apache2-access.log combined`,
    "",
  ].join("\n");
}

function startWith(tuning: Tuning): (context: StartContext) => StartSpec {
  return (context) => ({
    // -DFOREGROUND: the parent stays in the foreground, holding the listening socket.
    argv: [BINARY, "-DFOREGROUND", "-f", `${context.dir}/httpd.conf`],
    env: { LANG: "C" }, // as Debian's /etc/apache2/envvars sets it
    files: { "httpd.conf": apacheConfig(context, tuning), ...SITE_FILES },
    prepare: [MAKE_LARGE_FILE],
  });
}

/** `apache2 -v` prints `Server version: Apache/2.4.71 (Debian)`. */
async function version(): Promise<string> {
  const { stdout } = await run([BINARY, "-v"]);
  return /Apache\/(\S+)/.exec(stdout)?.[1] ?? "unknown";
}

const KNOBS = {
  "KeepAliveTimeout": "5 s (Debian; idle keep-alive connection closed)",
  "RequestReadTimeout":
    "header=20-40,minrate=500 body=10,minrate=500 (Debian; slow or partial request: 408, close)",
  "Timeout": "300 s (Debian; a read or write without progress ends the connection)",
  "SO_KEEPALIVE": "on, with the OS's TCP_KEEPIDLE/INTVL/CNT (Apache sets it on listeners)",
  "AcceptFilter": "http data (Linux: TCP_DEFER_ACCEPT 30 s; silent connections not accepted)",
  "MPM": "event (threads; one dead client ties up no worker while it waits)",
};

/** Apache httpd with Debian's configuration, and a variant with a short Timeout. */
export default defineTarget({
  id: "apache2",
  title: "Apache httpd (Debian package apache2, event MPM, HTTP/1.1 static files)",
  install: { binary: BINARY, debianPackage: "apache2" },
  port: 80,
  runsAs: "www-data",
  start: startWith({}),
  version,
  protocol: HTTP_PROTOCOL,
  knobs: KNOBS,
  variants: {
    "timeout-10": {
      title: "Timeout 10",
      knobs: { "Timeout": "10 s (a read or write without progress for 10 s ends it)" },
      start: startWith({ timeoutS: 10 }),
    },
  },
});
