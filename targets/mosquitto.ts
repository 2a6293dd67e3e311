/**
 * `mosquitto`: the Eclipse Mosquitto MQTT broker from Debian's package, with Debian's
 * /etc/mosquitto/mosquitto.conf (persistence on) moved into the lab directory, one listener
 * on the lab address and anonymous clients allowed (mosquitto 2.0 refuses them otherwise).
 *
 * What its documentation says it does with dead clients, and what the certification is
 * expected to find:
 * - MQTT keep alive (MQTT 3.1.1 §3.1.2.10; mosquitto.conf(5)): a client states a keep alive
 *   in its CONNECT; "if the Server does not receive a Control Packet from the Client within
 *   one and a half times the Keep Alive time period, it MUST disconnect". This target's
 *   CONNECT says 10 s. Mosquitto 2.0.11 counts whole seconds and checks its clients about
 *   every 6 s, so a vanished, frozen or silent client is closed between 15 and about 22 s
 *   after the last packet it sent (measured in this lab: 15.2 to 20.4 s; with keep alive 2 s,
 *   3.3 to 8.6 s). Outgoing traffic does not count: a client that stops reading mid-response
 *   is closed the same way.
 * - a connection that has not completed its CONNECT is held to a keep alive of 60 s
 *   (src/context.c), so a partial CONNECT, or a client that never sends, is closed after
 *   90 to about 97 s;
 * - no SO_KEEPALIVE and no TCP_USER_TIMEOUT of its own: the keep alive check is the
 *   mechanism; a client that connects with keep alive 0 is never checked;
 * - `max_keepalive` (default 65535) only refuses MQTT 3.1.1 clients asking for more, so no
 *   server-side setting changes when a 10 s client is dropped: the target has no variants.
 *
 * The exchanges: every byte the client agent sends must be below 0x80 (it sends UTF-8), which
 * rules out PINGREQ (0xC0) and SUBSCRIBE (0x82). So the request is a CONNECT (clean session,
 * server-assigned id, keep alive 10 s) answered by CONNACK, the partial request half of it,
 * and the large response a 64 MiB QoS 1 message that `prepare` queues for a persistent
 * session, delivered as soon as a CONNECT resumes that session (queue_large_message.ts).
 * A CONNECT is valid once per connection: a second one on the same connection is a protocol
 * violation (§3.1), and mosquitto closes the connection.
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import { defineTarget, type StartContext, type StartSpec } from "../lib/target/define_target.ts";
import {
  asciiOnly,
  CONNACK_ACCEPTED,
  connectPacket,
  publishHeader,
} from "./mosquitto/mqtt_packets.ts";
import {
  LARGE_CLIENT_ID,
  LARGE_PAYLOAD_BYTES,
  LARGE_TOPIC,
} from "./mosquitto/queue_large_message.ts";

/** The keep alive (seconds) of the target's CONNECT: mosquitto drops it after 1.5 times this. */
const KEEP_ALIVE_S = 10;

const BINARY = "/usr/sbin/mosquitto";
const QUEUE_SCRIPT = decodeURIComponent(
  new URL("./mosquitto/queue_large_message.ts", import.meta.url).pathname,
);

const connect = asciiOnly(
  connectPacket({ clientId: "", cleanSession: true, keepAliveS: KEEP_ALIVE_S }),
);
const resumeLarge = asciiOnly(
  connectPacket({ clientId: LARGE_CLIENT_ID, cleanSession: false, keepAliveS: KEEP_ALIVE_S }),
);
/** CONNACK with "session present", then the queued PUBLISH: header and payload. */
const LARGE_RESPONSE_BYTES = 4 + publishHeader(LARGE_TOPIC, 1, LARGE_PAYLOAD_BYTES).length +
  LARGE_PAYLOAD_BYTES;

function config({ address, port, dir }: StartContext): string {
  return [
    "# Debian's /etc/mosquitto/mosquitto.conf with the lab's paths; the host's own",
    "# /etc/mosquitto/conf.d is not included.",
    `pid_file ${dir}/mosquitto/mosquitto.pid`,
    "persistence true",
    `persistence_location ${dir}/mosquitto/`,
    "# The target's log in the lab directory (Debian: /var/log/mosquitto/mosquitto.log).",
    "log_dest stderr",
    `listener ${port} ${address}`,
    "allow_anonymous true",
    "",
  ].join("\n");
}

function start(context: StartContext): StartSpec {
  const { address, port, dir } = context;
  return {
    files: { "mosquitto/mosquitto.conf": config(context) },
    // Started as root, mosquitto binds and then runs as user mosquitto, which writes its pid
    // and persistence files: it must own their directory.
    argv: [
      "sh",
      "-c",
      'chown mosquitto: "$1" && shift && exec "$@"',
      "sh",
      `${dir}/mosquitto`,
      BINARY,
      "-c",
      `${dir}/mosquitto/mosquitto.conf`,
    ],
    prepare: [[Deno.execPath(), "run", "--allow-net", QUEUE_SCRIPT, address, String(port)]],
  };
}

/** The mosquitto MQTT broker, Debian's configuration. */
export default defineTarget({
  id: "mosquitto",
  title: "Eclipse Mosquitto MQTT broker (Debian configuration, client keep alive 10 s)",
  install: { binary: BINARY, debianPackage: "mosquitto" },
  port: 1883,
  start,
  version: async () => {
    // `-h` prints the version and exits with 3.
    const { stdout } = await run([BINARY, "-h"], { accept: [3] });
    return /mosquitto version (\S+)/.exec(stdout)?.[1] ?? "unknown";
  },
  protocol: {
    request: { send: connect, until: asciiOnly(CONNACK_ACCEPTED) },
    partialRequest: connect.slice(0, 6),
    largeRequest: { send: resumeLarge, responseBytes: LARGE_RESPONSE_BYTES },
  },
  knobs: {
    "client keep alive (CONNECT)":
      `${KEEP_ALIVE_S} s: closed after more than 1.5 × that without a packet (scan every 6 s)`,
    "keep alive before CONNECT": "60 s (built in): a partial CONNECT is closed after 90 to 97 s",
    "max_keepalive": "65535 (default)",
    "SO_KEEPALIVE": "off (not set by mosquitto)",
    "TCP_USER_TIMEOUT": "unset",
    "message_size_limit": "0 (default: MQTT's 256 MiB)",
  },
});
