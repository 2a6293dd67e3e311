/**
 * `pgbouncer`: the PgBouncer connection pooler from Debian's package, with Debian's
 * /etc/pgbouncer/pgbouncer.ini, run as user postgres as Debian's service runs it, in front of a
 * PostgreSQL 15 server the target starts too (a cluster made once by initdb and copied per
 * lab, reachable only through its Unix socket in the lab directory). That server comes from
 * postgresql-15, the postgresql target's package, which `install.alsoNeeds` names: installing
 * the target installs both. The lab changes only: the listener (lab
 * address, port 6432), the pid file and Unix socket directory (in the lab directory), the log
 * (stderr, the target's log, instead of /var/log/postgresql/pgbouncer.log), one database entry
 * (Debian's `[databases]` is empty) and `auth_type = trust` instead of md5 (the client agent
 * sends fixed bytes and cannot answer a salted challenge); the user is still looked up in the
 * auth_file.
 *
 * Documented behaviour toward dead clients (pgbouncer(5) of 1.18, the comments of Debian's
 * pgbouncer.ini):
 * - `tcp_keepalive` 1 with `tcp_keepcnt`, `tcp_keepidle`, `tcp_keepintvl` 0: SO_KEEPALIVE
 *   "with OS defaults" (7200 s, 75 s, 9 probes) on every client socket: the kernel aborts a
 *   vanished idle client 7200 + 9 × 75 = 7875 s after the last traffic;
 * - `tcp_user_timeout` 0: unacknowledged data (a vanished client mid-response) is given up
 *   only by the kernel's retransmission timeout (tcp_retries2, about 924.6 s), and a client
 *   that keeps its window at zero holds its connection forever; PgBouncer then stops reading
 *   the server's reply too, so the client also holds its server connection, and its backend,
 *   busy;
 * - `client_idle_timeout` 0 ("Client connections idling longer than this many seconds are
 *   closed", disabled), `query_timeout` 0, `idle_transaction_timeout` 0: no timer of PgBouncer
 *   notices a dead client that has logged in;
 * - `client_login_timeout` 60: a client that connects and does not finish logging in (it
 *   never sends, or sends part of its StartupMessage) is disconnected after about 60 s;
 * - `max_client_conn` 100: connections past 100 (all addresses together) are refused with
 *   "no more connections allowed (max_client_conn)"; the churn scenarios count those
 *   refusals. `default_pool_size` 20 in session mode: a client keeps its server connection
 *   for its whole session, so only 20 are served at a time and the others wait, up to
 *   `query_wait_timeout` 120 s, then are disconnected (in this lab's churn scenarios 19 of 500
 *   sessions started, the bystander holding the 20th; the runner counts the waiting ones as
 *   refused, and PgBouncer noticed the resets of waiting clients only gradually: 80 of their
 *   sockets were still open 20 s later);
 * - one event loop (libevent) with non-blocking sockets, SIGPIPE ignored: a dead client
 *   stalls no one else and a reset never kills the pooler.
 * The certification is expected to find idle vanished clients released only after about
 * 7875 s (predicted from the socket options), vanished clients mid-response after about
 * 924.6 s, frozen clients never released, and clients that never send closed after 60 s.
 * Variants: `client-idle-timeout-30` closes a client idle for 30 s only while it has no server
 * connection (janitor.c skips linked clients): in session mode that is a client that logged in
 * and never ran a query, so the scenarios, whose clients all run one, find it changes nothing
 * (measured: a client idle after a query was still open 40 s later, one that only logged in
 * was closed after 30.3 s); `transaction-idle-timeout-30` adds `pool_mode = transaction`,
 * where a client holds a server connection only during a transaction, and is closed after 30 s
 * idle between transactions; `tcp-user-timeout-10s` gives up on unacknowledged data or a zero
 * window after 10 s.
 *
 * Before the scenarios, `prepare` fills the pool: 20 sessions at once, then ended, leave 20
 * idle server connections in it for `server_idle_timeout` (600 s), so that the fds and memory
 * measured before and after dead clients are the pooler's steady state, not the pool growing.
 * PostgreSQL runs outside PgBouncer's process tree: what is measured is PgBouncer's own.
 *
 * The exchanges are PostgreSQL's, as for the `postgresql` target: a StartupMessage answered
 * by ReadyForQuery as the greeting (PgBouncer answers it itself, from the pool's cached
 * parameters), `SELECT 1` as the request, and a 100 MB result as the large request, relayed
 * from the server through PgBouncer's 4 KiB packet buffer (`pkt_buf`).
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
import {
  commandComplete,
  queryMessage,
  READY_FOR_QUERY_IDLE,
  startupMessage,
} from "./postgresql/frontend_message.ts";

const BINARY = "/usr/sbin/pgbouncer";
const WARM_SCRIPT = decodeURIComponent(
  new URL("./pgbouncer/warm_pool.ts", import.meta.url).pathname,
);
/** `default_pool_size`: server connections per database and user. */
const POOL_SIZE = 20;
const PG_BIN = "/usr/lib/postgresql/15/bin";

const STARTUP = startupMessage({ user: "postgres", database: "postgres" });
const SELECT_1 = queryMessage("SELECT 1");
const ROWS = 100;
const ROW_BYTES = 1_000_000;
/**
 * The query's reply: RowDescription (32 bytes), one DataRow per row (type, length, column
 * count, value length: 11 bytes, then the value), CommandComplete and ReadyForQuery.
 */
const QUERY_REPLY_BYTES = 32 + ROWS * (11 + ROW_BYTES) +
  commandComplete(`SELECT ${ROWS}`).length + READY_FOR_QUERY_IDLE.length;

function config({ address, port, dir }: StartContext, tuning: readonly string[]): string {
  return [
    ";; Generated by clientdown: Debian's /etc/pgbouncer/pgbouncer.ini, with the lab's",
    ";; listener, paths, database and trust authentication.",
    "[databases]",
    `postgres = host=${dir}/pgsocket port=5432 dbname=postgres`,
    "[users]",
    "[pgbouncer]",
    `pidfile = ${dir}/pgbouncer/pgbouncer.pid`,
    `listen_addr = ${address}`,
    `listen_port = ${port}`,
    `unix_socket_dir = ${dir}/pgbouncer`,
    "auth_type = trust",
    `auth_file = ${dir}/pgbouncer/userlist.txt`,
    ...tuning,
    "",
  ].join("\n");
}

/**
 * Runs as root in the lab directory. Makes the cached cluster once (initdb as postgres, into a
 * temporary directory renamed into place), copies it, starts PostgreSQL on a Unix socket only
 * (as postgres, in its own IPC namespace, and in its own session: `setsid -f` forks it away, so
 * it is not part of PgBouncer's process tree, whose fds and memory the scenarios measure; the
 * lab's teardown ends it with every process of the server host), waits until it accepts
 * sessions, then execs PgBouncer as postgres, which keeps the pid. Arguments: the cache
 * directory, PgBouncer's configuration file.
 */
const START = `set -eu
bin=${PG_BIN}
if [ ! -x "$bin/postgres" ]; then
  echo "The pgbouncer target needs PostgreSQL 15 behind it: install the Debian package postgresql-15 (the postgresql target's)" >&2
  exit 1
fi
as_postgres="setpriv --reuid=postgres --regid=postgres --init-groups"
cache="$1/pgbouncer-postgresql-$("$bin/postgres" -V | awk '{print $3}')"
if [ ! -d "$cache" ]; then
  mkdir -p "$1"
  exec 9>"$cache.lock"
  flock 9
  if [ ! -d "$cache" ]; then
    tmp=$(mktemp -d "$cache.XXXXXX")
    chown postgres:postgres "$tmp"
    $as_postgres -- "$bin/initdb" -D "$tmp/data" -U postgres -E UTF8 --locale=C.UTF-8 \\
      --auth=trust --no-instructions --no-sync >/dev/null || { rm -rf "$tmp"; exit 1; }
    mv -T "$tmp" "$cache"
  fi
  exec 9>&-
fi
rm -rf pgdata pgsocket
cp -a "$cache/data" pgdata
mkdir pgsocket
chown postgres:postgres pgsocket pgbouncer
setsid -f unshare --ipc -- $as_postgres -- "$bin/postgres" -D pgdata \\
  -c listen_addresses= -c "unix_socket_directories=$PWD/pgsocket" \\
  -c dynamic_shared_memory_type=mmap -c log_min_messages=warning
for i in $(seq 200); do
  "$bin/pg_isready" -q -h "$PWD/pgsocket" -U postgres && break
  sleep 0.05
done
exec $as_postgres -- ${BINARY} "$2"`;

function pgbouncerStart(tuning: readonly string[]): (context: StartContext) => StartSpec {
  return (context) => ({
    files: {
      "pgbouncer/pgbouncer.ini": config(context, tuning),
      // trust still looks the user up here; the password is never asked for.
      "pgbouncer/userlist.txt": '"postgres" ""\n',
    },
    argv: [
      "sh",
      "-c",
      START,
      "sh",
      `${stateDir()}/cache`,
      `${context.dir}/pgbouncer/pgbouncer.ini`,
    ],
    // The pool at its steady size before any scenario (see pgbouncer/warm_pool.ts).
    prepare: [[
      Deno.execPath(),
      "run",
      "--allow-net",
      WARM_SCRIPT,
      context.address,
      String(context.port),
      String(POOL_SIZE),
    ]],
    // SIGTERM is PgBouncer's immediate shutdown (SIGINT, Debian's, waits for queries to end).
  });
}

const CLIENT_IDLE_TIMEOUT_30: TargetVariant = {
  title: "client_idle_timeout = 30",
  knobs: {
    "client_idle_timeout": "30 s, for clients without a server connection only: in session " +
      "mode, one that has run a query keeps its server and is never closed by it",
  },
  start: pgbouncerStart(["client_idle_timeout = 30"]),
};

const TRANSACTION_IDLE_TIMEOUT_30: TargetVariant = {
  title: "pool_mode = transaction, client_idle_timeout = 30",
  knobs: {
    "pool_mode": "transaction: a client holds a server connection only during a transaction",
    "client_idle_timeout": "30 s: a client idle that long between transactions is closed",
  },
  start: pgbouncerStart(["pool_mode = transaction", "client_idle_timeout = 30"]),
};

const TCP_USER_TIMEOUT_10S: TargetVariant = {
  title: "tcp_user_timeout = 10000",
  knobs: { "tcp_user_timeout": "10000 ms → TCP_USER_TIMEOUT 10 s on client sockets" },
  start: pgbouncerStart(["tcp_user_timeout = 10000"]),
};

/** PgBouncer with Debian's configuration, in front of PostgreSQL 15. */
export default defineTarget({
  id: "pgbouncer",
  title: "PgBouncer in front of PostgreSQL 15 (Debian packages, distribution configuration)",
  install: {
    binary: BINARY,
    debianPackage: "pgbouncer",
    alsoNeeds: [{ binary: `${PG_BIN}/postgres`, debianPackage: "postgresql-15" }],
  },
  port: 6432,
  runsAs: "postgres",
  start: pgbouncerStart([]),
  version: async () => {
    // "PgBouncer 1.18.0", then its libraries.
    const { stdout } = await run([BINARY, "--version"]);
    return /PgBouncer (\S+)/.exec(stdout)?.[1] ?? "unknown";
  },
  protocol: {
    greeting: { send: STARTUP, until: READY_FOR_QUERY_IDLE },
    request: { send: SELECT_1, until: commandComplete("SELECT 1") + READY_FOR_QUERY_IDLE },
    partialRequest: SELECT_1.slice(0, 5),
    largeRequest: {
      send: queryMessage(`SELECT repeat('x', ${ROW_BYTES}) FROM generate_series(1, ${ROWS})`),
      responseBytes: QUERY_REPLY_BYTES,
    },
  },
  knobs: {
    "tcp_keepalive / tcp_keepidle / tcp_keepintvl / tcp_keepcnt":
      "1 / 0 / 0 / 0 → SO_KEEPALIVE with the OS's 7200 s / 75 s / 9",
    "tcp_user_timeout": "0 (unset)",
    "client_idle_timeout": "0 (off)",
    "query_timeout / idle_transaction_timeout": "0 / 0 (off)",
    "client_login_timeout": "60 s to finish logging in",
    "max_client_conn": "100 clients in all (further ones refused)",
    "pool_mode / default_pool_size / query_wait_timeout": "session / 20 / 120 s",
  },
  variants: {
    "client-idle-timeout-30": CLIENT_IDLE_TIMEOUT_30,
    "transaction-idle-timeout-30": TRANSACTION_IDLE_TIMEOUT_30,
    "tcp-user-timeout-10s": TCP_USER_TIMEOUT_10S,
  },
});
