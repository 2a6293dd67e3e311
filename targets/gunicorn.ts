/**
 * `gunicorn`: Debian's gunicorn (20.1, package `gunicorn`, on Debian's python3) serving a tiny
 * WSGI application that returns the lab's static files through `wsgi.file_wrapper` (sendfile),
 * with every gunicorn setting at its default (https://docs.gunicorn.org/en/20.1.0/settings.html;
 * Debian ships no configuration): `--bind` the lab's address and port 8000, nothing else. It
 * runs as `nobody` (gunicorn has no Debian user; the application's owner runs it). What the
 * settings and the sync worker (gunicorn/workers/sync.py) lead one to expect:
 * - `workers 1`, `worker_class sync`: one process serves one connection at a time, with a
 *   blocking socket and no socket timeout; every response is sent with `Connection: close`
 *   (`resp.force_close()`: "until someone shows a buffering proxy that supports Keep-Alive"), so
 *   `keepalive 2` does not apply and a connection is closed (FIN) right after its response: an
 *   idle client is never held, and one request per connection is all the protocol allows;
 * - `timeout 30`: the arbiter kills (SIGABRT) a worker that has not notified it for 30 s, and
 *   a sync worker notifies only between connections: a partial request, a client that stops
 *   reading and a vanished client mid-response block the only worker until it is killed
 *   about 30 s later and replaced; meanwhile nobody else is served (new connections wait in
 *   the `backlog 2048` queue);
 * - no SO_KEEPALIVE, no TCP_USER_TIMEOUT; Python ignores SIGPIPE (EPIPE is an exception
 *   that ends one request).
 * Variants: `timeout-10` (`--timeout 10`: the stuck worker is killed after 10 s), and `gthread`
 * (`--worker-class gthread --threads 4`: keep-alive connections closed after `keepalive 2` s
 * idle, requests handled by 4 threads while the worker's main loop keeps notifying, so `timeout`
 * no longer ends a stuck connection: a stalled reader holds its thread until the kernel gives up).
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import {
  defineTarget,
  type StartContext,
  type StartSpec,
  type TargetProtocol,
} from "../lib/target/define_target.ts";
import {
  hostPort,
  HTTP_PROTOCOL,
  MAKE_LARGE_FILE,
  SITE_FILES,
  SITE_ROOT,
} from "./http/static_site.ts";

const BINARY = "/usr/bin/gunicorn";

/** The WSGI application: the site's two files, with their Content-Length. */
const APP_PY = `# Written by clientdown: a tiny WSGI application serving the lab's static files.
import os

ROOT = os.environ["CLIENTDOWN_SITE"]
FILES = {"/small.txt", "/large.bin"}


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    name = os.path.join(ROOT, path.lstrip("/"))
    if path not in FILES or not os.path.isfile(name):
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [
        ("Content-Type", "application/octet-stream"),
        ("Content-Length", str(os.path.getsize(name))),
    ])
    return environ["wsgi.file_wrapper"](open(name, "rb"), 65536)
`;

/** Sync workers close every connection after its response: one request per connection. */
const SYNC_PROTOCOL: TargetProtocol = { ...HTTP_PROTOCOL, oneRequestPerConnection: true };

function startWith(options: readonly string[]): (context: StartContext) => StartSpec {
  return ({ address, port, dir }) => ({
    files: { "gunicorn/app.py": APP_PY, ...SITE_FILES },
    argv: [
      "setpriv",
      "--reuid=nobody",
      "--regid=nogroup",
      "--clear-groups",
      "--",
      BINARY,
      "--bind",
      hostPort(address, port),
      "--chdir",
      `${dir}/gunicorn`,
      ...options,
      "app:application",
    ],
    env: { CLIENTDOWN_SITE: `${dir}/${SITE_ROOT}` },
    prepare: [MAKE_LARGE_FILE],
    // SIGTERM waits graceful_timeout (30 s) for the workers; SIGINT is gunicorn's quick shutdown.
    stopSignal: "SIGINT",
  });
}

/** gunicorn with its defaults (one sync worker), and timeout and gthread variants. */
export default defineTarget({
  id: "gunicorn",
  title: "gunicorn (Debian package, defaults: one sync worker, a WSGI static file app)",
  install: { binary: BINARY, debianPackage: "gunicorn" },
  port: 8000,
  runsAs: "nobody",
  start: startWith([]),
  version: async () => {
    const { stdout, stderr } = await run([BINARY, "--version"]);
    return /version (\S+?)\)/.exec(stdout + stderr)?.[1] ?? "unknown";
  },
  protocol: SYNC_PROTOCOL,
  knobs: {
    "workers / worker_class": "1 / sync: one connection at a time, closed after its response",
    "timeout": "30 s: a worker stuck on one connection is killed (SIGABRT) and replaced",
    "keepalive": "2 s (not used by sync workers: every response has Connection: close)",
    "SO_KEEPALIVE / TCP_USER_TIMEOUT": "off / unset",
    "backlog": "2048 connections wait while the worker is busy",
  },
  variants: {
    "timeout-10": {
      title: "--timeout 10",
      knobs: { "timeout": "10 s: a worker stuck on one connection is killed and replaced" },
      start: startWith(["--timeout", "10"]),
    },
    "gthread": {
      title: "--worker-class gthread --threads 4",
      knobs: {
        "workers / worker_class": "1 / gthread with 4 threads: keep-alive connections",
        "keepalive": "2 s: idle keep-alive connections closed",
        "timeout": "30 s, but the main loop keeps notifying: a stuck connection is not ended",
      },
      start: startWith(["--worker-class", "gthread", "--threads", "4"]),
      protocol: HTTP_PROTOCOL,
    },
  },
});
