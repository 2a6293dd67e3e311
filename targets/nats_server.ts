/**
 * `nats-server`: the NATS server (core NATS, no JetStream) from Debian's package, with
 * Debian's /etc/nats-server.conf (only `host` and `port`) on the lab address, run as user nats
 * as Debian's service runs it. Every other setting is the server's built-in default.
 *
 * Documented behaviour toward dead clients (NATS docs "Configuration": ping_interval, ping_max,
 * write_deadline, max_pending; server/const.go, client.go and util.go of v2.9.10):
 * - `ping_interval` 2m, `ping_max` 2: the server checks each client on a timer and sends it a
 *   PING; once two PINGs are outstanding (no PONG came back), the next check closes it
 *   ("Stale Connection"). The first check comes 2 to 2.4 s after the CONNECT and always sends
 *   a PING (to measure the round trip, client.go setFirstPingTimer); the later ones come every
 *   2 min and send one only after 2 min without traffic from the client. A client that never
 *   answers is therefore closed at the third check, about 4 min 2 s after its CONNECT when it
 *   has been silent since (later when it kept sending); any PONG resets the count. The client
 *   agent never answers a PING, so a live client that stays silent is closed the same way: the
 *   time measured is what a dead client gets;
 * - no TCP keepalive: Go would turn it on for accepted sockets, but nats-server listens with
 *   `KeepAlive: -1` (util.go natsListenConfig, "to match Go's behavior before Go 1.13");
 * - `write_deadline` 10s: a write to a client that blocks for 10 s (its window at zero, or
 *   its host gone with data in flight) makes it a "slow consumer", and it is closed at once;
 *   `max_pending` 64 MiB: a client whose pending output passes 64 MiB is closed likewise;
 * - no TCP_USER_TIMEOUT; no authorization configured, so no `auth_timeout` (2 s) for a client
 *   that connects and never sends its CONNECT: only the PINGs end it (the first check then
 *   comes after 2 min), after about 6 min;
 * - one goroutine pair per client, writes with deadlines, SIGPIPE harmless to a Go program on
 *   a socket: a dead client stalls no one else; `max_connections` 64K in all, no limit per
 *   address.
 * The certification is expected to find idle vanished and frozen clients released about 4 min
 * after they connected (stale connection), vanished and zero-window clients mid-response
 * about 10 s after the server's writes stall (write deadline), and a connection that never
 * sends closed after about 6 min. The `ping-20s` variant (`ping_interval: 20s`) closes a
 * client that does not answer PINGs about 42 s after its CONNECT (checks at 2, 22 and 42 s),
 * one that never sends after about 60 s.
 *
 * The exchanges. The server sends INFO when a client connects; the greeting is the client's
 * CONNECT (non-verbose: no `+OK` after each command) and a PING, answered by PONG, which
 * reads INFO too. The request is `PING`, answered by `PONG`; the partial request is part of a
 * PUB line. Core NATS keeps no data to fetch: the large request subscribes to one subject
 * under 64 subscription ids, each ending after one message (`UNSUB <sid> 1`), and publishes
 * one message of almost 1 MiB to it, so the server sends the message 64 times, each copy with
 * its MSG line exactly 1 MiB: 64 MiB in all, more than any socket buffer and exactly
 * `max_pending` (the whole response is queued at once, and only output past 64 MiB makes a
 * slow consumer). The client sends 1 MiB of it. Once a client's output passes 32 MiB, the
 * server slows its producer (up to 1 s a message, client.go stalledWait), here the same
 * client: with a reader that stopped, the server takes about 20 s to queue the last copies,
 * and its subscriptions not yet served would also get a message another connection publishes
 * to the subject meanwhile. The scenarios make one large request at a time.
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

const BINARY = "/usr/sbin/nats-server";
const SUBJECT = "clientdown.big";
/**
 * The large request's subscription ids: 64 of them, all of two digits, so that every copy of
 * the message takes the same bytes.
 */
const SIDS = Array.from({ length: 64 }, (_, i) => i + 10);
/** Bytes of one copy: `MSG <subject> <sid> <payload bytes>`, CRLF, the payload, CRLF. */
const COPY_BYTES = 1024 * 1024;
/** The payload that makes each copy exactly 1 MiB: under `max_payload` (1 MiB). */
const PAYLOAD_BYTES = COPY_BYTES - `MSG ${SUBJECT} 10 1048576\r\n`.length - 2;
const LARGE_REQUEST = [
  // Each subscription ends itself after one message (`UNSUB <sid> 1`): nothing is left behind.
  ...SIDS.map((sid) => `SUB ${SUBJECT} ${sid}\r\nUNSUB ${sid} 1\r\n`),
  `PUB ${SUBJECT} ${PAYLOAD_BYTES}\r\n${"x".repeat(PAYLOAD_BYTES)}\r\n`,
].join("");
/** 64 copies of 1 MiB: exactly `max_pending`, which closes a client only when passed. */
const LARGE_RESPONSE_BYTES = SIDS.length * COPY_BYTES;
const CONNECT = `CONNECT ${
  JSON.stringify({
    verbose: false,
    pedantic: false,
    name: "clientdown",
    lang: "clientdown",
    version: "0",
    protocol: 1,
  })
}\r\n`;

function config({ address, port }: StartContext, tuning: readonly string[]): string {
  return [
    "# Debian's /etc/nats-server.conf, with the lab's address.",
    `host: ${address}`,
    `port: ${port}`,
    ...tuning,
    "",
  ].join("\n");
}

function natsStart(tuning: readonly string[]): (context: StartContext) => StartSpec {
  return (context) => ({
    files: { "nats-server/nats-server.conf": config(context, tuning) },
    // Debian's unit: `nats-server -c /etc/nats-server.conf` as User=nats; its log is stderr.
    argv: [
      "setpriv",
      "--reuid=nats",
      "--regid=nats",
      "--init-groups",
      "--",
      BINARY,
      "-c",
      `${context.dir}/nats-server/nats-server.conf`,
    ],
    // Debian's unit stops it with SIGINT; SIGTERM does the same.
    stopSignal: "SIGINT",
  });
}

const PING_20S: TargetVariant = {
  title: "ping_interval 20s",
  knobs: {
    "ping_interval / ping_max": "20s / 2: PINGs at 2 s after CONNECT, then after each 20 s " +
      "of silence; closed at the third check without a PONG (about 42 s after CONNECT)",
  },
  start: natsStart(["ping_interval: 20s"]),
};

/** nats-server with Debian's configuration. */
export default defineTarget({
  id: "nats-server",
  title: "NATS server (Debian nats-server, distribution configuration)",
  install: { binary: BINARY, debianPackage: "nats-server" },
  port: 4222,
  runsAs: "nats",
  start: natsStart([]),
  version: async () => {
    // "nats-server: v2.9.10"
    const { stdout } = await run([BINARY, "--version"]);
    return /\bv(\d\S*)/.exec(stdout)?.[1] ?? stdout.trim();
  },
  protocol: {
    greeting: { send: `${CONNECT}PING\r\n`, until: "PONG\r\n" },
    request: { send: "PING\r\n", until: "PONG\r\n" },
    partialRequest: `PUB ${SUBJECT} 5`,
    largeRequest: { send: LARGE_REQUEST, responseBytes: LARGE_RESPONSE_BYTES },
  },
  knobs: {
    "ping_interval / ping_max": "2m / 2: PINGs at 2 s after CONNECT, then after each 2 min " +
      "of silence; closed at the third check without a PONG (about 4 min after CONNECT)",
    "SO_KEEPALIVE": "off (nats-server listens with KeepAlive -1)",
    "write_deadline": "10s: a write blocked that long closes the client (slow consumer)",
    "max_pending": "64 MiB of output per client, then closed (slow consumer)",
    "TCP_USER_TIMEOUT": "unset",
    "auth_timeout": "none without authorization (a client that never sends is kept until the " +
      "PINGs end it)",
    "max_connections": "65536 in all, no limit per address",
  },
  variants: { "ping-20s": PING_20S },
});
