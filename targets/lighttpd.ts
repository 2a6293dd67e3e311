/**
 * `lighttpd`: Debian's lighttpd (package `lighttpd`) serving a static site over HTTP/1.1,
 * with the distribution's /etc/lighttpd/lighttpd.conf reproduced in the lab directory.
 * Debian sets none of the timeouts, so lighttpd's built-in defaults apply
 * (https://redmine.lighttpd.net/projects/lighttpd/wiki/Server_max-keep-alive-idleDetails and
 * its siblings; src/configfile.c):
 * - `server.max-keep-alive-idle = 5`: an idle keep-alive connection is closed after 5 s, so a
 *   client that vanished from an idle connection is released at about 5 s;
 * - `server.max-read-idle = 60`: no request bytes for 60 s closes the connection, so a
 *   partial request is released at about 60 s;
 * - `server.max-write-idle = 360`: no write progress for 360 s closes it, so a vanished or
 *   frozen (zero-window) reader is given up on at about 6 min (the kernel's retransmission
 *   timeout, about 924.6 s, comes later);
 * - `server.max-keep-alive-requests = 1000`;
 * - no SO_KEEPALIVE: TCP alone never notices an idle dead peer; lighttpd's timers do.
 * Its clock counts whole seconds and a timeout of N s fires once more than N have passed,
 * between N and N + 2 s after the last activity. It then shuts its side (FIN after what is
 * queued) and waits up to 5 s more (HTTP_LINGER_TIMEOUT, counted the same way) for the
 * client's FIN before closing the fd: a dead client's connection is released about 6 s
 * after the timeout fired (measured: write-idle 10 s → FIN at 11 s, fd closed at 17 s).
 * One process, event-driven, SIGPIPE ignored: one dead client stalls no other. It binds the
 * listening socket as root, then runs as www-data.
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import { defineTarget, type StartContext, type StartSpec } from "../lib/target/define_target.ts";
import { HTTP_PROTOCOL, MAKE_LARGE_FILE, SITE_FILES, SITE_ROOT } from "./http/static_site.ts";

const BINARY = "/usr/sbin/lighttpd";

/** Settings a variant adds (lighttpd option → value); none in Debian's configuration. */
type Tuning = Record<string, number>;

/** lighttpd.conf as Debian ships it, with every path inside the lab directory. */
function lighttpdConfig({ address, port, dir }: StartContext, tuning: Tuning): string {
  return [
    "server.modules = (",
    '  "mod_indexfile",',
    '  "mod_access",',
    '  "mod_alias",',
    '  "mod_redirect",',
    ")",
    `server.document-root = "${dir}/${SITE_ROOT}"`,
    // No server.errorlog: lighttpd opens it as www-data, which may not write in the lab
    // directory; without one it logs to stderr, which goes to the target's log there.
    `server.pid-file = "${dir}/lighttpd.pid"`,
    'server.username = "www-data"',
    'server.groupname = "www-data"',
    // The lab address only: Debian's use-ipv6.pl would add a second socket on [::].
    `server.bind = "${address.includes(":") ? `[${address}]` : address}"`,
    `server.port = ${port}`,
    'server.feature-flags += ("server.h2proto" => "enable")',
    'server.feature-flags += ("server.h2c" => "enable")',
    'server.feature-flags += ("server.graceful-shutdown-timeout" => 5)',
    "server.http-parseopts = (",
    '  "header-strict" => "enable",',
    '  "host-strict" => "enable",',
    '  "host-normalize" => "enable",',
    '  "url-normalize-unreserved" => "enable",',
    '  "url-normalize-required" => "enable",',
    '  "url-ctrls-reject" => "enable",',
    '  "url-path-2f-decode" => "enable",',
    '  "url-path-dotseg-remove" => "enable",',
    ")",
    'index-file.names = ("index.php", "index.html")',
    'url.access-deny = ("~", ".inc")',
    'static-file.exclude-extensions = (".php", ".pl", ".fcgi")',
    'include_shell "/usr/share/lighttpd/create-mime.conf.pl"',
    'server.modules += ("mod_dirlisting", "mod_staticfile")',
    ...Object.entries(tuning).map(([option, value]) => `${option} = ${value}`),
    "",
  ].join("\n");
}

function startWith(tuning: Tuning): (context: StartContext) => StartSpec {
  return (context) => ({
    // -D: stay in the foreground, the process that holds the listening socket.
    argv: [BINARY, "-D", "-f", `${context.dir}/lighttpd.conf`],
    files: { "lighttpd.conf": lighttpdConfig(context, tuning), ...SITE_FILES },
    prepare: [MAKE_LARGE_FILE],
  });
}

/** `lighttpd -v` prints `lighttpd/1.4.69 (ssl) - a light and fast webserver`. */
async function version(): Promise<string> {
  const { stdout } = await run([BINARY, "-v"]);
  return /lighttpd\/(\S+)/.exec(stdout)?.[1] ?? "unknown";
}

const KNOBS = {
  "server.max-keep-alive-idle": "5 s (lighttpd default; idle keep-alive connection closed)",
  "server.max-read-idle": "60 s (lighttpd default; no request bytes, then close)",
  "server.max-write-idle": "360 s (lighttpd default; no write progress, then close)",
  "server.max-keep-alive-requests": "1000 (lighttpd default)",
  "SO_KEEPALIVE": "off (lighttpd never sets it)",
};

/** lighttpd with Debian's configuration, and variants for its idle timeouts. */
export default defineTarget({
  id: "lighttpd",
  title: "lighttpd (Debian package, HTTP/1.1 static files)",
  install: { binary: BINARY, debianPackage: "lighttpd" },
  port: 80,
  runsAs: "www-data",
  start: startWith({}),
  version,
  protocol: HTTP_PROTOCOL,
  knobs: KNOBS,
  variants: {
    "write-idle-10s": {
      title: "server.max-write-idle = 10",
      knobs: { "server.max-write-idle": "10 s (no write progress for 10 s, then close)" },
      start: startWith({ "server.max-write-idle": 10 }),
    },
    "keep-alive-idle-60s": {
      title: "server.max-keep-alive-idle = 60",
      knobs: { "server.max-keep-alive-idle": "60 s (idle keep-alive connection closed)" },
      start: startWith({ "server.max-keep-alive-idle": 60 }),
    },
  },
});
