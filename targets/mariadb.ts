/**
 * `mariadb`: the MariaDB 10.11 server from Debian's mariadb-server package, with the settings
 * of Debian's /etc/mysql/mariadb.conf.d/50-server.cnf (utf8mb4, expire_logs_days 10; the other
 * files there set nothing for the server), run as user mysql as Debian's service runs it. The
 * lab changes only: the address (bind-address is the lab address instead of 127.0.0.1), the
 * pid file, socket and data directory (in the lab directory; the data directory is copied per
 * lab from one made once by mariadb-install-db and cached in the state directory, keyed by
 * version), an `init-file` that creates the lab's user: `clientdown`@`%`, no password, no
 * privileges (Debian's root logs in only through the Unix socket), and `skip-name-resolve`
 * (the lab has no name service, and a reverse lookup that times out delays a login by 5 s).
 *
 * Documented behaviour toward dead clients (MariaDB Server System Variables; sql/sql_parse.cc
 * do_command):
 * - `wait_timeout` 28800: a connection waiting for its next command (idle, or stopped in the
 *   middle of one: the whole command packet is read under this timeout) is closed after 8 h;
 *   `interactive_timeout` (28800) applies only to clients that say CLIENT_INTERACTIVE, which
 *   the agent does not;
 * - `net_read_timeout` 30 (reads within a command, e.g. LOAD DATA) and `net_write_timeout` 60:
 *   a write to a client that blocks for 60 s (its window at zero, or its host gone with data in
 *   flight) aborts the statement and closes the connection;
 * - `connect_timeout` 10: a client that connects and does not send its handshake response is
 *   closed after 10 s (and counts as a connect error of its address: `max_connect_errors` 100
 *   such errors block the address until FLUSH HOSTS);
 * - SO_KEEPALIVE on every client socket, with `tcp_keepalive_time`, `_interval`, `_probes` 0
 *   meaning the OS's 7200 s, 75 s, 9: far later than the timeouts above; no TCP_USER_TIMEOUT;
 * - `max_connections` 151 (plus one for a SUPER user); one thread per connection
 *   (`thread_handling` one-thread-per-connection), SIGPIPE ignored: a dead client stalls no one
 *   else and a reset never kills the server; no limit per address.
 * The certification is expected to find clients gone mid-response (vanished or frozen)
 * released about 60 s after the server's writes stall (net_write_timeout), idle vanished
 * clients only after about 7875 s (the keepalive, predicted, before wait_timeout's 8 h), clients
 * gone in the middle of a command likewise, and clients that never send their handshake
 * response closed after 10 s. `wait-timeout-30` closes idle clients (and half-sent commands)
 * after 30 s; `tcp-keepalive-60` sets TCP_KEEPIDLE 60 s, TCP_KEEPINTVL 10 s, TCP_KEEPCNT 3.
 *
 * The exchanges. The server speaks first (its handshake packet, with a random scramble). The
 * greeting is the client's HandshakeResponse41 (user `clientdown`, empty password, so no
 * scramble is needed), answered by OK; the request is COM_PING, answered by OK; the partial
 * request is the header of a COM_QUERY and part of its text; the large request is a query
 * whose result is 70 rows of 1 MB (each row under `max_allowed_packet`, 16 MiB). The client
 * agent sends UTF-8, so every packet must be valid UTF-8 (checked here): the capability flags
 * are chosen so that their two high bytes form one UTF-8 sequence.
 *
 * @module
 */

import { stateDir } from "../lib/lab/state_dir.ts";
import { run } from "../lib/process/spawn.ts";
import {
  defineTarget,
  type StartContext,
  type StartSpec,
  type TargetVariant,
} from "../lib/target/define_target.ts";

const BINARY = "/usr/sbin/mariadbd";
const USER = "clientdown";

/** A packet: 3-byte little-endian payload length, sequence id, payload; as agent text. */
function packet(sequence: number, payload: Uint8Array): string {
  const bytes = Uint8Array.from([
    payload.length & 0xff,
    (payload.length >> 8) & 0xff,
    (payload.length >> 16) & 0xff,
    sequence,
    ...payload,
  ]);
  // The agent sends UTF-8: a packet that is not valid UTF-8 cannot be sent as it is.
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
}

const ascii = (text: string) => new TextEncoder().encode(text);

/**
 * Capability flags: CLIENT_LONG_PASSWORD (CLIENT_MYSQL to MariaDB: no extended flags follow),
 * CLIENT_FOUND_ROWS, CLIENT_ODBC and CLIENT_LOCAL_FILES (0xC3: the UTF-8 lead byte), then
 * CLIENT_PROTOCOL_41, CLIENT_TRANSACTIONS and CLIENT_SECURE_CONNECTION (0xA2: its continuation
 * byte), and CLIENT_PLUGIN_AUTH. Neither CLIENT_INTERACTIVE nor CLIENT_DEPRECATE_EOF.
 */
const CAPABILITIES = [0xc3, 0xa2, 0x08, 0x00];
/** utf8mb4_general_ci. */
const CHARSET = 45;

/** HandshakeResponse41: sequence 1, after the server's handshake (sequence 0). */
const HANDSHAKE_RESPONSE = packet(
  1,
  Uint8Array.from([
    ...CAPABILITIES,
    ...[0x00, 0x00, 0x00, 0x01], // max packet size: 16 MiB
    CHARSET,
    ...new Uint8Array(23),
    ...ascii(`${USER}\0`),
    0, // auth response: empty (no password)
    ...ascii("mysql_native_password\0"),
  ]),
);

/** OK_Packet of a session in autocommit with nothing affected, at sequence `sequence`. */
function okPacket(sequence: number): string {
  return packet(sequence, Uint8Array.of(0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00));
}

const COM_PING = packet(0, Uint8Array.of(0x0e));
const comQuery = (sql: string) => packet(0, Uint8Array.from([0x03, ...ascii(sql)]));

const ROWS = 70;
const ROW_BYTES = 1_000_000;
const LARGE_QUERY =
  `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS}) ` +
  `SELECT REPEAT('x', ${ROW_BYTES}) AS v FROM n`;
/**
 * The result set: column count (5 bytes), the column definition of `v` (27), EOF (9), one
 * row packet per row (4 bytes of header, 0xFD and a 3-byte length, the value), EOF (9).
 */
const LARGE_RESPONSE_BYTES = 5 + 27 + 9 + ROWS * (4 + 4 + ROW_BYTES) + 9;

/** The settings that differ between the default configuration and a variant. */
type Tuning = readonly string[];

function config({ address, port, dir }: StartContext, tuning: Tuning): string {
  return [
    "# Generated by clientdown: Debian's /etc/mysql/mariadb.conf.d/50-server.cnf, with the",
    "# lab's address, paths and user (the host's /etc/mysql is not read).",
    "[mysqld]",
    `pid-file = ${dir}/mariadb/mysqld.pid`,
    `socket = ${dir}/mariadb/mysqld.sock`,
    "basedir = /usr",
    `datadir = ${dir}/mariadb/data`,
    `bind-address = ${address}`,
    `port = ${port}`,
    "expire_logs_days = 10",
    "character-set-server = utf8mb4",
    "collation-server = utf8mb4_general_ci",
    `init-file = ${dir}/mariadb/init.sql`,
    // The lab has no name service: resolving each client's address would time out (5 s) on
    // some logins. Grants here name no hosts.
    "skip-name-resolve",
    ...tuning,
    "",
  ].join("\n");
}

/**
 * Runs as root in the lab directory: makes the cached data directory once (mariadb-install-db
 * into a temporary directory renamed into place), copies it, then execs mariadbd as mysql,
 * which keeps the pid. Arguments: the cache directory, the configuration file.
 */
const START = `set -eu
cache="$1/mariadb-$(${BINARY} --version | awk '{print $3}')"
if [ ! -d "$cache" ]; then
  mkdir -p "$1"
  exec 9>"$cache.lock"
  flock 9
  if [ ! -d "$cache" ]; then
    tmp=$(mktemp -d "$cache.XXXXXX")
    chown mysql:mysql "$tmp"
    mariadb-install-db --no-defaults --user=mysql --datadir="$tmp/data" --skip-test-db \\
      >"$tmp.log" 2>&1 || { cat "$tmp.log"; rm -rf "$tmp" "$tmp.log"; exit 1; }
    rm -f "$tmp.log"
    mv -T "$tmp" "$cache"
  fi
  exec 9>&-
fi
rm -rf mariadb/data
cp -a "$cache/data" mariadb/data
chown mysql:mysql mariadb
exec setpriv --reuid=mysql --regid=mysql --init-groups -- ${BINARY} --defaults-file="$2"`;

function mariadbStart(tuning: Tuning): (context: StartContext) => StartSpec {
  return (context) => ({
    files: {
      "mariadb/my.cnf": config(context, tuning),
      "mariadb/init.sql": `CREATE USER IF NOT EXISTS '${USER}'@'%';\n`,
    },
    argv: ["sh", "-c", START, "sh", `${stateDir()}/cache`, `${context.dir}/mariadb/my.cnf`],
  });
}

const WAIT_TIMEOUT_30: TargetVariant = {
  title: "wait_timeout = 30",
  knobs: { "wait_timeout": "30 s waiting for a command (or the rest of one), then closed" },
  start: mariadbStart(["wait_timeout = 30"]),
};

const TCP_KEEPALIVE_60: TargetVariant = {
  title: "tcp_keepalive_time = 60, tcp_keepalive_interval = 10, tcp_keepalive_probes = 3",
  knobs: {
    "tcp_keepalive_time / _interval / _probes":
      "60 / 10 / 3 → TCP_KEEPIDLE 60 s, TCP_KEEPINTVL 10 s, TCP_KEEPCNT 3",
  },
  start: mariadbStart([
    "tcp_keepalive_time = 60",
    "tcp_keepalive_interval = 10",
    "tcp_keepalive_probes = 3",
  ]),
};

/** MariaDB 10.11 with Debian's configuration. */
export default defineTarget({
  id: "mariadb",
  title: "MariaDB 10.11 (Debian mariadb-server, distribution configuration)",
  install: { binary: BINARY, debianPackage: "mariadb-server" },
  port: 3306,
  runsAs: "mysql",
  start: mariadbStart([]),
  version: async () => {
    // "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 ..."
    const { stdout } = await run([BINARY, "--version"]);
    return /Ver (\S+)/.exec(stdout)?.[1] ?? "unknown";
  },
  protocol: {
    // The handshake: once per connection. The server's own handshake packet is read with it.
    greeting: { send: HANDSHAKE_RESPONSE, until: okPacket(2) },
    request: { send: COM_PING, until: okPacket(1) },
    // A COM_QUERY header that announces more than is sent.
    partialRequest: comQuery("SELECT 1").slice(0, 8),
    largeRequest: { send: comQuery(LARGE_QUERY), responseBytes: LARGE_RESPONSE_BYTES },
  },
  knobs: {
    "wait_timeout": "28800 s waiting for a command (or the rest of one), then closed",
    "interactive_timeout": "28800 s (interactive clients only)",
    "net_write_timeout": "60 s for a blocked write, then the connection is closed",
    "net_read_timeout": "30 s (reads within a command)",
    "connect_timeout": "10 s to send the handshake response",
    "tcp_keepalive_time / _interval / _probes":
      "0 / 0 / 0 → SO_KEEPALIVE with the OS's 7200 s / 75 s / 9",
    "TCP_USER_TIMEOUT": "unset",
    "max_connections": "151 in all, no limit per address",
    "max_connect_errors": "100 aborted handshakes block an address",
  },
  variants: {
    "wait-timeout-30": WAIT_TIMEOUT_30,
    "tcp-keepalive-60": TCP_KEEPALIVE_60,
  },
});
