/**
 * `haproxy`: HAProxy from Debian's package in HTTP mode, answering by itself (no backend
 * server): a small static response (`http-request return`) and a 64 MiB one streamed by a
 * Lua HTTP service inside haproxy (`http-request return` must fit one 16 KiB buffer).
 * Debian's /etc/haproxy/haproxy.cfg is kept (user and group haproxy, chroot
 * /var/lib/haproxy, `mode http`, `option httplog`, `option dontlognull`, its errorfiles),
 * except what the lab needs: foreground (`-db`, no `daemon`), the log on stderr (the lab's
 * target log) instead of /dev/log, no stats socket in /run/haproxy, a pid file in the lab
 * directory, and no TLS defaults (no TLS listener).
 *
 * Timeouts: Debian's file sets `timeout connect 5000`, `timeout client 50000` and
 * `timeout server 50000`. This target's default leaves them unset, which is HAProxy's own
 * default (configuration.txt, "timeout client": "An unspecified timeout results in an
 * infinite timeout, which is not recommended. Such a usage is accepted and works but reports
 * a warning during startup"); the `debian-timeouts` variant runs with Debian's values.
 *
 * What its documentation says it does with dead clients, and what the certification is
 * expected to find:
 * - `timeout client` unset: no inactivity timeout on the client side, while the client is
 *   expected to send or to acknowledge; `timeout http-request` and `timeout http-keep-alive`
 *   unset fall back to it (configuration.txt §4.2), so an idle keep-alive connection, a
 *   partial request and a client that stops reading (zero window) are held forever;
 * - `option clitcpka` off (configuration.txt: "Enable or disable the sending of TCP
 *   keepalive packets on the client side"): no SO_KEEPALIVE, so a vanished idle client is
 *   never released; a vanished client with a response in flight is released only when the
 *   kernel gives up retransmitting (tcp_retries2, about 924.6 s);
 * - an RST or a FIN from the client is seen as soon as it arrives (every connection is polled);
 *   haproxy ignores SIGPIPE, so writing to a reset connection does not kill it.
 * The variants: `timeout-client-30s` (all of the above released after 30 s of client
 * inactivity), `clitcpka` (SO_KEEPALIVE with the OS timers: 7200 s idle, 75 s interval, 9
 * probes), `debian-timeouts` (Debian's haproxy.cfg: `timeout client 50000`).
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import {
  defineTarget,
  type StartContext,
  type StartSpec,
  type TargetVariant,
} from "../lib/target/define_target.ts";

const BINARY = "/usr/sbin/haproxy";

/** The small response's body: it ends the response (its length is the Content-Length). */
const SMALL_BODY = "clientdown: the small response of haproxy\n";
/** The large response's body. */
const LARGE_BODY_BYTES = 64 * 1024 * 1024;
/** The Lua service writes the large body in chunks of this size, waiting for room. */
const LARGE_CHUNK_BYTES = 64 * 1024;
/** The large response's status line and headers, exactly as haproxy sends them. */
const LARGE_HEAD = "HTTP/1.1 200 OK\r\n" +
  "content-type: application/octet-stream\r\n" +
  `content-length: ${LARGE_BODY_BYTES}\r\n\r\n`;

const LARGE_SERVICE = `-- clientdown: a ${LARGE_BODY_BYTES}-byte response served by haproxy itself.
local chunk = string.rep("x", ${LARGE_CHUNK_BYTES})
core.register_service("large", "http", function(applet)
  applet:set_status(200)
  applet:add_header("content-type", "application/octet-stream")
  applet:add_header("content-length", "${LARGE_BODY_BYTES}")
  applet:start_response()
  for _ = 1, ${LARGE_BODY_BYTES / LARGE_CHUNK_BYTES} do
    applet:send(chunk)
  end
end)
`;

/** haproxy's `bind` address: IPv6 literals in brackets. */
function bindAddress(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

function config({ address, port, dir }: StartContext, tuning: readonly string[]): string {
  const errorfiles = [400, 403, 408, 500, 502, 503, 504].map((code) =>
    `\terrorfile ${code} /etc/haproxy/errors/${code}.http`
  );
  return [
    "# Debian's /etc/haproxy/haproxy.cfg, adapted for the lab (see targets/haproxy.ts).",
    "global",
    "\tlog stderr format raw local0",
    "\tchroot /var/lib/haproxy",
    "\tuser haproxy",
    "\tgroup haproxy",
    `\tpidfile ${dir}/haproxy/haproxy.pid`,
    `\tlua-load ${dir}/haproxy/large.lua`,
    "",
    "defaults",
    "\tlog\tglobal",
    "\tmode\thttp",
    "\toption\thttplog",
    "\toption\tdontlognull",
    ...tuning.map((line) => `\t${line}`),
    ...errorfiles,
    "",
    "frontend clientdown",
    `\tbind ${bindAddress(address, port)}`,
    "\thttp-request use-service lua.large if { path /large }",
    `\thttp-request return status 200 content-type text/plain file ${dir}/haproxy/small.txt`,
    "",
  ].join("\n");
}

/** A `start` running haproxy with `tuning` added to the `defaults` section. */
function startWith(tuning: readonly string[]): (context: StartContext) => StartSpec {
  return (context) => ({
    files: {
      "haproxy/haproxy.cfg": config(context, tuning),
      "haproxy/large.lua": LARGE_SERVICE,
      "haproxy/small.txt": SMALL_BODY,
    },
    argv: [BINARY, "-db", "-f", `${context.dir}/haproxy/haproxy.cfg`],
  });
}

function variant(title: string, tuning: readonly string[], knobs: Record<string, string>) {
  return { title, knobs, start: startWith(tuning) } satisfies TargetVariant;
}

function request(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: clientdown\r\n\r\n`;
}

/** HAProxy in HTTP mode, serving its own responses. */
export default defineTarget({
  id: "haproxy",
  title: "HAProxy, HTTP mode (no timeout client, no clitcpka)",
  install: { binary: BINARY, debianPackage: "haproxy" },
  port: 80,
  runsAs: "haproxy",
  start: startWith([]),
  version: async () => {
    const { stdout } = await run([BINARY, "-v"]);
    return /HAProxy version (\S+)/.exec(stdout)?.[1] ?? "unknown";
  },
  protocol: {
    request: { send: request("/small"), until: SMALL_BODY },
    partialRequest: "GET /small HTTP/1.1\r\nHo",
    largeRequest: {
      send: request("/large"),
      responseBytes: LARGE_HEAD.length + LARGE_BODY_BYTES,
    },
  },
  knobs: {
    "timeout client": "unset (infinite; haproxy warns at startup)",
    "timeout http-request": "unset (falls back to timeout client)",
    "timeout http-keep-alive": "unset (falls back to timeout http-request, then timeout client)",
    "option clitcpka": "off (no SO_KEEPALIVE on client connections)",
    "large response":
      `Lua HTTP service, ${LARGE_BODY_BYTES} bytes in ${LARGE_CHUNK_BYTES}-byte sends`,
  },
  variants: {
    "timeout-client-30s": variant("timeout client 30s", ["timeout client 30s"], {
      "timeout client": "30 s",
      "timeout http-request": "unset (falls back to timeout client: 30 s)",
      "timeout http-keep-alive": "unset (falls back to timeout client: 30 s)",
    }),
    "clitcpka": variant("option clitcpka (OS keepalive timers)", ["option clitcpka"], {
      "option clitcpka": "on: SO_KEEPALIVE with the OS timers (7200 s, 75 s, 9 probes)",
    }),
    "debian-timeouts": variant(
      "Debian's haproxy.cfg timeouts (timeout client 50 s)",
      ["timeout connect 5000", "timeout client  50000", "timeout server  50000"],
      {
        "timeout client": "50 s (Debian's haproxy.cfg)",
        "timeout http-request": "unset (falls back to timeout client: 50 s)",
        "timeout http-keep-alive": "unset (falls back to timeout client: 50 s)",
        "timeout connect / server": "5 s / 50 s (no server: unused)",
      },
    ),
  },
});
