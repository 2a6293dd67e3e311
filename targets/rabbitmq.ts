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
 *   vanished client is kept forever, a vanished client mid-response until the kernel's
 *   retransmission timeout (tcp_retries2, about 924.6 s), a frozen reader forever;
 * - `handshake_timeout` 10 s applies to AMQP connections; a STOMP connection that never sends
 *   its CONNECT is held (no timeout of the STOMP reader);
 * - one Erlang process per connection, writes that never block the rest: a dead client stalls
 *   no one else; no limit of connections per address (only the file descriptor limit and
 *   memory alarms, `vm_memory_high_watermark` 0.4).
 * The certification is expected to find dead clients released only by the kernel: never when
 * idle, after about 924.6 s mid-response, never when frozen. The `heartbeat-10s` variant is
 * the same broker with clients that say `heart-beat:10000,0` (they promise a heart-beat every
 * 10 s, which the agent never sends): a client is closed 20 to 30 s after its last frame (30 s
 * after a CONNECT followed by silence, measured), dead or alive.
 *
 * The exchanges: the greeting is the CONNECT frame (login guest), answered by CONNECTED; the
 * request is a SEND with an empty body to a topic nobody subscribes to, with a receipt header,
 * answered by RECEIPT; the partial request is part of that SEND. The large request subscribes
 * to one topic under 64 subscription ids and sends one 1 MiB message to it: the broker
 * delivers it to each subscription, 64 MESSAGE frames, 64 MiB and their headers. Its
 * subscriptions stay (a connection makes the large request once, and receives nothing before
 * it: the size counts delivery tags 1 to 64 in the message ids). The broker ends every frame
 * it sends with a line feed after the NUL (`trailing_lf`, default true).
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

const BINARY = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const STOMP_PORT = 61613;

/** A STOMP frame: command, headers, blank line, body, NUL. */
function frame(command: string, headers: Record<string, string>, body = ""): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}:${value}\n`).join("");
  return `${command}\n${lines}\n${body}\0`;
}

const UNHEARD = "/topic/clientdown.unheard";
const REQUEST = frame("SEND", { destination: UNHEARD, receipt: "r", "content-length": "0" });
const LARGE_TOPIC = "/topic/clientdown.big";
/** Subscription ids of the large request: 64 of two digits, so every delivery is as long. */
const SUBSCRIPTIONS = Array.from({ length: 64 }, (_, i) => `s${i + 10}`);
const BODY_BYTES = 1024 * 1024;
const LARGE_REQUEST = [
  ...SUBSCRIPTIONS.map((id) => frame("SUBSCRIBE", { id, destination: LARGE_TOPIC })),
  frame(
    "SEND",
    { destination: LARGE_TOPIC, "content-length": String(BODY_BYTES) },
    "x".repeat(BODY_BYTES),
  ),
].join("");

/**
 * The `n`-th delivery on the connection (to any of the subscriptions, whose ids are all as
 * long): the MESSAGE frame's headers as RabbitMQ writes them (the message id names the
 * subscription, the session, 22 characters, and the delivery's tag, counted on the
 * connection's channel from 1), the body, NUL and the trailing line feed.
 */
function deliveryBytes(n: number): number {
  const headers = {
    subscription: "s10",
    destination: LARGE_TOPIC,
    "message-id": `T_s10@@session-${"s".repeat(22)}@@${n}`,
    redelivered: "false",
    "content-length": String(BODY_BYTES),
  };
  return frame("MESSAGE", headers).length + BODY_BYTES + 1;
}

/** The 64 deliveries of a connection that received nothing before. */
const LARGE_RESPONSE_BYTES = SUBSCRIPTIONS.reduce((sum, _, i) => sum + deliveryBytes(i + 1), 0);

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
    largeRequest: { send: LARGE_REQUEST, responseBytes: LARGE_RESPONSE_BYTES },
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
    "heartbeat (AMQP 0-9-1 only)": "60 s proposed to AMQP clients (not this listener)",
    "handshake_timeout": "10 s (AMQP only; a silent STOMP connection is held)",
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
