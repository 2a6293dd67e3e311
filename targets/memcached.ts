/**
 * `memcached`: Debian's memcached with the options of its /etc/memcached.conf (`-m 64`,
 * `-u memcache`), listening on the lab address.
 *
 * Documented behaviour toward dead clients (memcached.c, protocol.txt; DESIGN facts table):
 * - `idle_timeout` 0 (the default): a connection is never closed for being idle;
 * - SO_KEEPALIVE is set on the listening socket and inherited by every accepted one, with the
 *   OS's timers (tcp_keepalive_time 7200 s, intvl 75 s, probes 9): the kernel aborts a
 *   vanished idle client 7200 + 9 × 75 = 7875 s after the last traffic;
 * - no TCP_USER_TIMEOUT and no write timeout: a vanished client mid-response is given up only
 *   by the kernel's retransmission timeout (tcp_retries2, about 924.6 s), and a client that
 *   keeps its window at zero holds its connection, and the items its reply references,
 *   forever;
 * - worker threads with non-blocking sockets (libevent), SIGPIPE ignored: a dead client stalls
 *   no one else and a reset never kills the server.
 * The certification is expected to find idle vanished clients released only after about
 * 7875 s (predicted from the socket options), and frozen clients never released. The
 * `idle-timeout-30` variant (`-o idle_timeout=30`) closes connections that have sent no
 * command for 30 s while waiting for one (idle, or a partial request); memcached never
 * applies it to a connection that is writing a response.
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import { defineTarget, type StartContext, type StartSpec } from "../lib/target/define_target.ts";

/** One item's value: under the 1 MiB item size limit with its header. */
const ITEM_BYTES = 1_000_000;
/** How many times the large request names the item: 70 MB, more than 64 MiB. */
const ITEM_REPEATS = 70;
const VALUE_LINE = `VALUE big 0 ${ITEM_BYTES}\r\n`;
/** Each repeat is its VALUE line, the data and `\r\n`; `END\r\n` closes the reply. */
const LARGE_REPLY_BYTES = ITEM_REPEATS * (VALUE_LINE.length + ITEM_BYTES + 2) + "END\r\n".length;

/**
 * Stores the item the large request reads, through bash's /dev/tcp, and checks the reply.
 * Arguments: address, port, value size.
 */
const LOAD_ITEM = [
  'exec 3<>"/dev/tcp/$1/$2"',
  '{ printf "set big 0 0 %s\\r\\n" "$3"; head -c "$3" /dev/zero | tr "\\0" x; printf "\\r\\n"; } >&3',
  "IFS= read -r reply <&3",
  'test "$reply" = "$(printf "STORED\\r")"',
].join("\n");

/** memcached's option syntax wants IPv6 addresses in brackets (`-l [2001:db8::1]`). */
function listenAddress(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

function memcachedStart(extra: string[]): (context: StartContext) => StartSpec {
  return ({ address, port }) => ({
    // Debian's -m, -p, -u and -l; no -d: the runner needs it in the foreground, and its log
    // is stdout. memcached drops root for the user itself, keeping its pid.
    argv: [
      "memcached",
      "-m",
      "64",
      "-p",
      String(port),
      "-u",
      "memcache",
      "-l",
      listenAddress(address),
      ...extra,
    ],
    prepare: [["bash", "-c", LOAD_ITEM, "bash", address, String(port), String(ITEM_BYTES)]],
  });
}

/** memcached with Debian's options. */
export default defineTarget({
  id: "memcached",
  title: "memcached (Debian package, distribution options)",
  install: { binary: "memcached", debianPackage: "memcached" },
  port: 11211,
  runsAs: "memcache",
  start: memcachedStart([]),
  version: async () => {
    const { stdout } = await run(["memcached", "-V"]);
    return /memcached (\S+)/.exec(stdout)?.[1] ?? stdout.trim();
  },
  protocol: {
    request: { send: "version\r\n", until: "\r\n" },
    partialRequest: "get bi",
    // One 1 MB item named 70 times: memcached sends it once per name, from the same memory.
    largeRequest: {
      send: `get${" big".repeat(ITEM_REPEATS)}\r\n`,
      responseBytes: LARGE_REPLY_BYTES,
    },
  },
  knobs: {
    "idle_timeout": "0 (connections are never closed for being idle)",
    "SO_KEEPALIVE": "on, with the OS's timers (7200 s / 75 s / 9 probes)",
    "TCP_USER_TIMEOUT": "unset",
    "write timeout": "none",
  },
  variants: {
    "idle-timeout-30": {
      title: "-o idle_timeout=30",
      knobs: {
        "idle_timeout": "30 s without a command while waiting for one, then close",
      },
      start: memcachedStart(["-o", "idle_timeout=30"]),
    },
  },
});
