/**
 * `beanstalkd`: the beanstalkd work queue from Debian's package, started as Debian's service
 * starts it (`beanstalkd -l ADDR -p PORT` as user beanstalkd, /etc/default/beanstalkd without a
 * binlog), on the lab address. One option is added: `-z 67108864` raises the largest job from
 * 65535 bytes to 64 MiB, so that `prepare` can store the job the large request reads; it changes
 * nothing in how connections are treated.
 *
 * Documented behaviour toward dead clients (beanstalkd(1), doc/protocol.txt, net.c, prot.c):
 * - no idle timeout of any kind: beanstalkd has no option for one, and its only timers are a
 *   reserved job's time-to-run and `reserve-with-timeout` (prot.c conn_timeout); an idle or
 *   half-sent client is kept for as long as the kernel keeps its socket;
 * - SO_KEEPALIVE is set on the listening socket (net.c make_inet_socket, with SO_REUSEADDR,
 *   TCP_NODELAY and SO_LINGER off) and inherited by every accepted one, with the OS's timers
 *   (tcp_keepalive_time 7200 s, intvl 75 s, probes 9): the kernel aborts a vanished idle
 *   client 7200 + 9 × 75 = 7875 s after the last traffic;
 * - no TCP_USER_TIMEOUT and no write timeout: a vanished client mid-response is given up only
 *   by the kernel's retransmission timeout (tcp_retries2, about 924.6 s), and a client that
 *   keeps its window at zero holds its connection forever (the job's body is sent from the
 *   job itself, so no copy of it is buffered);
 * - one event loop with non-blocking sockets, SIGPIPE ignored (main.c): a dead client stalls
 *   no one else and a reset never kills the server; no limit of connections per address.
 * The certification is expected to find idle vanished clients released only after about
 * 7875 s (predicted from the socket options), vanished clients mid-response after about
 * 924.6 s, and frozen clients never released. beanstalkd has no setting that changes any of
 * this, so there is no tuned variant.
 *
 * The exchanges: the request is `list-tube-used`, answered `USING default`; the partial request
 * is that command without its CRLF; the large request is `peek 1`, the 64 MiB job `prepare`
 * put first (so it has id 1), answered `FOUND 1 <bytes>`, the body and CRLF. Neither changes
 * the queue.
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import { defineTarget, type StartContext, type StartSpec } from "../lib/target/define_target.ts";

const BINARY = "/usr/bin/beanstalkd";
/** The body of the job the large request peeks at: 64 MiB. */
const JOB_BYTES = 64 * 1024 * 1024;
const FOUND_LINE = `FOUND 1 ${JOB_BYTES}\r\n`;
/** The FOUND line, the body, and the CRLF after it (protocol.txt "peek"). */
const LARGE_REPLY_BYTES = FOUND_LINE.length + JOB_BYTES + 2;

/**
 * Puts the job the large request peeks at, through bash's /dev/tcp, and checks that it got
 * id 1. Arguments: address, port, body size.
 */
const PUT_JOB = [
  'exec 3<>"/dev/tcp/$1/$2"',
  '{ printf "put 0 0 0 %s\\r\\n" "$3"; head -c "$3" /dev/zero | tr "\\0" x; printf "\\r\\n"; } >&3',
  "IFS= read -r reply <&3",
  'test "$reply" = "$(printf "INSERTED 1\\r")"',
].join("\n");

function start({ address, port }: StartContext): StartSpec {
  return {
    // Debian's unit: `beanstalkd -l $BEANSTALKD_LISTEN_ADDR -p $BEANSTALKD_LISTEN_PORT` as
    // User=beanstalkd. setpriv execs it, keeping the pid.
    argv: [
      "setpriv",
      "--reuid=beanstalkd",
      "--regid=beanstalkd",
      "--init-groups",
      "--",
      BINARY,
      "-l",
      address,
      "-p",
      String(port),
      "-z",
      String(JOB_BYTES),
    ],
    prepare: [["bash", "-c", PUT_JOB, "bash", address, String(port), String(JOB_BYTES)]],
  };
}

/** beanstalkd as Debian's service runs it. */
export default defineTarget({
  id: "beanstalkd",
  title: "beanstalkd work queue (Debian package, distribution options)",
  install: { binary: BINARY, debianPackage: "beanstalkd" },
  port: 11300,
  runsAs: "beanstalkd",
  start,
  version: async () => {
    // "beanstalkd 1.12"
    const { stdout } = await run([BINARY, "-v"]);
    return /beanstalkd (\S+)/.exec(stdout)?.[1] ?? stdout.trim();
  },
  protocol: {
    request: { send: "list-tube-used\r\n", until: "USING default\r\n" },
    partialRequest: "list-tube-us",
    largeRequest: { send: "peek 1\r\n", responseBytes: LARGE_REPLY_BYTES },
  },
  knobs: {
    "idle timeout": "none (beanstalkd has no such option)",
    "SO_KEEPALIVE": "on (set on the listening socket), with the OS's 7200 s / 75 s / 9",
    "TCP_USER_TIMEOUT": "unset",
    "write timeout / output limit": "none",
    "max job size (-z)": "67108864 in the lab (Debian: 65535), for the large response",
    "connections per address": "unlimited",
  },
});
