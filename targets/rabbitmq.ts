/**
 * `rabbitmq`: the RabbitMQ broker from Debian's rabbitmq-server package (3.10), run as user
 * rabbitmq as Debian's service runs it, with Debian's configuration (no rabbitmq.conf; an
 * /etc/rabbitmq/rabbitmq-env.conf whose lines are all comments), talked to over STOMP 1.2.
 *
 * Why STOMP and not AMQP 0-9-1: the client agent sends UTF-8 text, and every AMQP 0-9-1 frame
 * ends with the octet 0xCE, which UTF-8 allows only before a continuation byte, never before
 * the next frame's type octet or at the end: past its protocol header, an AMQP client cannot
 * be written with the agent. RabbitMQ's own STOMP plugin (rabbitmq_stomp, in the same package)
 * serves STOMP from the same broker: same queues, same connection processes, its own listener.
 *
 * The lab changes: the node's files (mnesia, logs to stdout, pid, cookie in HOME) in the lab
 * directory; the node name `rabbit@localhost`; the AMQP listener on the lab address (Debian:
 * every address); the STOMP plugin enabled, listening on the lab address, port 61613 (its
 * default port); `loopback_users = none`, since the built-in `guest` user may otherwise log in
 * only from the broker's own host and the lab's client is remote. `RUNNING_UNDER_SYSTEMD` is
 * set so that rabbitmq-server execs the Erlang VM (as under Debian's unit) instead of waiting
 * for it in a shell: the VM keeps the pid.
 *
 * Documented behaviour toward dead clients (rabbitmq.com "Detecting Dead TCP Connections with
 * Heartbeats and TCP Keepalives", "STOMP Plugin", "Networking"; rabbit.app and rabbitmq_stomp.app
 * of 3.10.8):
 * - STOMP heart-beating is what detects a dead client, and only when the client asks for it in
 *   its CONNECT (`heart-beat:cx,cy`): with `cx` > 0 the broker expects a frame or a heart-beat
 *   from the client at least that often: its heartbeat monitor checks every `cx` from the
 *   CONNECT on and closes the connection at the second check in a row that saw nothing from
 *   the client, 2 to 3 intervals after the client's last frame. The target's client says
 *   `heart-beat:0,0`, as a STOMP client does by default: no heart-beats, and nothing of the
 *   broker's notices a dead client. (AMQP 0-9-1 clients get `heartbeat` 60 s proposed by the
 *   broker; that listener is not what is tested here.)
 * - no TCP keepalive: `stomp.tcp_listen_options` default to backlog 128 and nodelay only
 *   (`keepalive` false, as for AMQP's `tcp_listen_options`), and no TCP_USER_TIMEOUT: an idle
 *   vanished client is kept forever;
 * - a send that cannot complete for 30 s closes the connection: the broker's listeners are
 *   Ranch listeners, and Ranch's `ranch_tcp:listen` adds `send_timeout` 30000 ms and
 *   `send_timeout_close` true to whatever `tcp_listen_options` leave out (Ranch's manual,
 *   "ranch_tcp"; rabbitmq.conf's `stomp.tcp_listen_options.send_timeout` sets it). A client that
 *   vanishes mid-response or stops reading is closed (FIN) about 30 s after the broker's
 *   writes first block: well before the kernel's retransmission timeout (tcp_retries2, about
 *   924.6 s), and a frozen reader is not kept forever;
 * - a connection that never sends its CONNECT is closed after 10 s (measured in this lab; the
 *   broker's `handshake_timeout` is 10 s);
 * - one Erlang process per connection, writes that never block the rest: a dead client stalls
 *   no one else; no limit of connections per address (only the file descriptor limit and
 *   memory alarms, `vm_memory_high_watermark` 0.4).
 * The certification is expected to find an idle dead client never released, and one that dies
 * mid-response or stops reading released by the broker's FIN about 30 s after its writes block. The `heartbeat-10s` variant is
 * the same broker with clients that say `heart-beat:10000,0` (they promise a heart-beat every
 * 10 s, which the agent never sends): a client is closed 20 to 30 s after its last frame (30 s
 * after a CONNECT followed by silence, measured), dead or alive.
 *
 * The exchanges: the greeting is the CONNECT frame (login guest), answered by CONNECTED; the
 * request is a SEND with an empty body to a topic nobody subscribes to, with a receipt header,
 * answered by RECEIPT; the partial request is part of that SEND. For the large request,
 * `prepare` fills a stream queue with 64 messages of 1 MiB (rabbitmq/fill_stream.ts); the
 * request is one SUBSCRIBE to it from its first offset, with a prefetch of 64 and client
 * acknowledgements (never sent): the broker sends all 64, 64 MiB and their headers, and a
 * stream is not consumed by reading it, so every connection gets them again. Its subscription
 * stays (a connection makes the large request once, and receives no message before it: the
 * size counts delivery tags 1 to 64). The broker ends every frame it sends with a line feed
 * after the NUL (`trailing_lf`, default true).
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
import { MESSAGE_BYTES, MESSAGES, STREAM_DESTINATION } from "./rabbitmq/stream.ts";

const BINARY = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const FILL_SCRIPT = decodeURIComponent(
  new URL("./rabbitmq/fill_stream.ts", import.meta.url).pathname,
);
const STOMP_PORT = 61613;

/** A STOMP frame: command, headers, blank line, body, NUL. */
function frame(command: string, headers: Record<string, string>, body = ""): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}:${value}\n`).join("");
  return `${command}\n${lines}\n${body}\0`;
}

const UNHEARD = "/topic/clientdown.unheard";
const REQUEST = frame("SEND", { destination: UNHEARD, receipt: "r", "content-length": "0" });
/** The large request: read the whole stream `prepare` filled, from its first offset. */
const LARGE_REQUEST = frame("SUBSCRIBE", {
  id: "big",
  destination: STREAM_DESTINATION,
  "x-queue-type": "stream",
  ack: "client",
  "prefetch-count": String(MESSAGES),
  "x-stream-offset": "first",
});

/**
 * The `n`-th delivery (from 1): the MESSAGE frame's headers as RabbitMQ writes them (message
 * id and ack id name the subscription, the session, 22 characters, and the delivery's tag,
 * counted on the connection from 1; the stream offset counts from 0), the body, NUL and the
 * trailing line feed.
 */
function deliveryBytes(n: number): number {
  const id = `T_big@@session-${"s".repeat(22)}@@${n}`;
  const headers = {
    subscription: "big",
    destination: STREAM_DESTINATION,
    "message-id": id,
    redelivered: "false",
    ack: id,
    "x-queue-type": "stream",
    "x-stream-offset": String(n - 1),
    "content-length": String(MESSAGE_BYTES),
  };
  return frame("MESSAGE", headers).length + MESSAGE_BYTES + 1;
}

/** Every message of the stream, to a connection that received no message before. */
let largeResponseBytes = 0;
for (let n = 1; n <= MESSAGES; n++) largeResponseBytes += deliveryBytes(n);

/** The exchanges of a client that says `heartBeat` (`cx,cy`, ms) in its CONNECT. */
function protocol(heartBeat: string): TargetProtocol {
  return {
    greeting: {
      send: frame("CONNECT", {
        "accept-version": "1.2",
        host: "/",
        login: "guest",
        passcode: "guest",
        "heart-beat": heartBeat,
      }),
      until: "version:1.2\n\n\0\n",
    },
    request: { send: REQUEST, until: "receipt-id:r\n\n\0\n" },
    partialRequest: REQUEST.slice(0, 20),
    largeRequest: { send: LARGE_REQUEST, responseBytes: largeResponseBytes },
  };
}

function config({ address }: StartContext): string {
  const listener = `${address}:${STOMP_PORT}`;
  return [
    "# Generated by clientdown: RabbitMQ's defaults (Debian ships no rabbitmq.conf), with the",
    "# lab's STOMP listener and remote logins for the built-in guest user.",
    "loopback_users = none",
    `stomp.listeners.tcp.1 = ${listener}`,
    "",
  ].join("\n");
}

function start(context: StartContext): StartSpec {
  const base = `${context.dir}/rabbitmq`;
  return {
    files: {
      "rabbitmq/rabbitmq.conf": config(context),
      "rabbitmq/enabled_plugins": "[rabbitmq_stomp].\n",
    },
    env: {
      HOME: base,
      RUNNING_UNDER_SYSTEMD: "true",
      RABBITMQ_NODENAME: "rabbit@localhost",
      RABBITMQ_NODE_IP_ADDRESS: context.address,
      RABBITMQ_NODE_PORT: "5672",
      RABBITMQ_CONFIG_FILE: `${base}/rabbitmq.conf`,
      RABBITMQ_ENABLED_PLUGINS_FILE: `${base}/enabled_plugins`,
      RABBITMQ_MNESIA_BASE: `${base}/mnesia`,
      RABBITMQ_LOG_BASE: `${base}/log`,
      RABBITMQ_LOGS: "-",
      RABBITMQ_PID_FILE: `${base}/rabbitmq.pid`,
    },
    // Debian's unit: User=rabbitmq, rabbitmq-server in the foreground. The node writes its
    // cookie, database and pid file under its directory, which it must own.
    argv: [
      "sh",
      "-c",
      'chown rabbitmq:rabbitmq "$1" && shift && exec "$@"',
      "sh",
      base,
      "setpriv",
      "--reuid=rabbitmq",
      "--regid=rabbitmq",
      "--init-groups",
      "--",
      BINARY,
    ],
    prepare: [[
      Deno.execPath(),
      "run",
      "--allow-net",
      FILL_SCRIPT,
      context.address,
      String(STOMP_PORT),
    ]],
    // The Erlang VM and the broker's applications take seconds to boot, more beside others.
    readyTimeoutMs: 90_000,
  };
}

/** RabbitMQ with Debian's configuration, over STOMP. */
export default defineTarget({
  id: "rabbitmq",
  title: "RabbitMQ over STOMP (Debian rabbitmq-server, distribution configuration)",
  install: { binary: BINARY, debianPackage: "rabbitmq-server" },
  port: STOMP_PORT,
  runsAs: "rabbitmq",
  start,
  version: async () => {
    const { stdout } = await run(["dpkg-query", "-W", "-f", "${Version}", "rabbitmq-server"]);
    return /^(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? "unknown";
  },
  protocol: protocol("0,0"),
  knobs: {
    "STOMP heart-beat (client's CONNECT)": "0,0: no heart-beats, no dead-client detection",
    "stomp.tcp_listen_options": "backlog 128, nodelay true: no SO_KEEPALIVE",
    "TCP_USER_TIMEOUT": "unset",
    "send_timeout (Ranch default)": "30 s, send_timeout_close true: a write blocked 30 s closes",
    "heartbeat (AMQP 0-9-1 only)": "60 s proposed to AMQP clients (not this listener)",
    "handshake_timeout": "10 s: a connection without a CONNECT is closed",
    "connections per address": "unlimited",
  },
  variants: {
    "heartbeat-10s": {
      title: "clients say heart-beat:10000,0",
      knobs: {
        "STOMP heart-beat (client's CONNECT)": "10000,0: the broker expects a frame or a " +
          "heart-beat every 10 s and closes a client 20 to 30 s after its last frame",
      },
      start,
      protocol: protocol("10000,0"),
    },
  },
});
