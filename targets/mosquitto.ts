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
 *   after the last whole packet it sent (measured in this lab: 15.2 to 20.4 s; with keep alive
 *   2 s, 3.3 to 8.6 s). Outgoing traffic does not count, nor does part of a packet: a client
 *   that stops reading mid-response, or stops in the middle of a PUBLISH, is closed the same
 *   way. A 30-second outage is therefore one no connection of this client survives.
 * - a connection that has not completed its CONNECT is held to a keep alive of 60 s
 *   (src/context.c), so a client that connects and never sends is closed after 90 to about
 *   97 s;
 * - no SO_KEEPALIVE and no TCP_USER_TIMEOUT of its own: the keep alive check is the
 *   mechanism; a client that connects with keep alive 0 is never checked;
 * - `max_keepalive` (default 65535) only refuses MQTT 3.1.1 clients asking for more: no
 *   server-side setting changes when a client is dropped, the client's keep alive does. The
 *   `keepalive-60` variant is the same broker with clients that say 60 s (closed after 90 to
 *   about 97 s of silence).
 *
 * The exchanges. Every connection starts with a CONNECT (clean session, server-assigned id,
 * keep alive 10 s) answered by CONNACK: the greeting, since a second CONNECT on a connection is
 * a protocol violation (§3.1) that mosquitto answers by closing it. The request is then a
 * QoS 1 PUBLISH (empty payload, to a topic nobody subscribes to) answered by its PUBACK; it
 * always carries packet identifier 1, which MQTT lets a client reuse once the PUBACK has come
 * (§2.3.1), and mosquitto keeps no state of a QoS 1 publish it has acknowledged. The partial
 * request is the first bytes of that PUBLISH.
 *
 * The client agent sends UTF-8 strings, so a packet must be valid UTF-8 (see `agentString`):
 * SUBSCRIBE begins with 0x82, which UTF-8 allows only right after a lead byte such as 0xC2.
 * The large request therefore sends a QoS 0 PUBLISH whose one-byte payload is 0xC2 (to a topic
 * nobody subscribes to), then a SUBSCRIBE at QoS 0 to the topic where `prepare` retained a
 * 64 MiB message (retain_large_message.ts): mosquitto answers with SUBACK and that message.
 * Each connection subscribes on its own clean session, so it needs no session another client
 * could take over, and the retained message is sent again to each subscriber.
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
  agentString,
  CONNACK_ACCEPTED,
  connectPacket,
  pubackPacket,
  publishHeader,
  publishPacket,
  subackPacket,
  subscribePacket,
} from "./mosquitto/mqtt_packets.ts";
import { LARGE_PAYLOAD_BYTES, LARGE_TOPIC } from "./mosquitto/retain_large_message.ts";

/** The keep alive (seconds) of the target's CONNECT: mosquitto drops it after 1.5 times this. */
const KEEP_ALIVE_S = 10;

const BINARY = "/usr/sbin/mosquitto";
const RETAIN_SCRIPT = decodeURIComponent(
  new URL("./mosquitto/retain_large_message.ts", import.meta.url).pathname,
);

/** Where the request and the large request's lead byte are published: nobody subscribes. */
const UNHEARD_TOPIC = "clientdown/unheard";
const PACKET_ID = 1;
const REQUEST = agentString(publishPacket(UNHEARD_TOPIC, new Uint8Array(), {
  qos: 1,
  packetId: PACKET_ID,
}));
/** The UTF-8 lead byte that lets SUBSCRIBE's first byte, 0x82, through the agent. */
const UTF8_LEAD = publishPacket(UNHEARD_TOPIC, Uint8Array.of(0xc2), { qos: 0 });
const LARGE_REQUEST = agentString(
  Uint8Array.from([...UTF8_LEAD, ...subscribePacket(PACKET_ID, LARGE_TOPIC, 0)]),
);
/** SUBACK granting QoS 0, then the retained message at QoS 0: header and payload. */
const LARGE_RESPONSE_BYTES = subackPacket(PACKET_ID, 0).length +
  publishHeader(LARGE_TOPIC, LARGE_PAYLOAD_BYTES, { qos: 0, retain: true }).length +
  LARGE_PAYLOAD_BYTES;

/** The exchanges of a client that says `keepAliveS` in its CONNECT. */
function protocol(keepAliveS: number): TargetProtocol {
  const connect = agentString(connectPacket({ clientId: "", cleanSession: true, keepAliveS }));
  return {
    greeting: { send: connect, until: agentString(CONNACK_ACCEPTED) },
    request: { send: REQUEST, until: agentString(pubackPacket(PACKET_ID)) },
    // The fixed header and half the topic's length: mosquitto waits for the rest.
    partialRequest: REQUEST.slice(0, 3),
    largeRequest: { send: LARGE_REQUEST, responseBytes: LARGE_RESPONSE_BYTES },
  };
}

function knobs(keepAliveS: number): Record<string, string> {
  return {
    "client keep alive (CONNECT)": `${keepAliveS} s: closed after more than 1.5 × that ` +
      "without a whole packet (checked every 6 s)",
  };
}

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
    prepare: [[Deno.execPath(), "run", "--allow-net", RETAIN_SCRIPT, address, String(port)]],
  };
}

/** The mosquitto MQTT broker, Debian's configuration. */
export default defineTarget({
  id: "mosquitto",
  title: "Eclipse Mosquitto MQTT broker (Debian configuration)",
  install: { binary: BINARY, debianPackage: "mosquitto" },
  port: 1883,
  runsAs: "mosquitto",
  start,
  version: async () => {
    // `-h` prints the version and exits with 3.
    const { stdout } = await run([BINARY, "-h"], { accept: [3] });
    return /mosquitto version (\S+)/.exec(stdout)?.[1] ?? "unknown";
  },
  protocol: protocol(KEEP_ALIVE_S),
  knobs: {
    ...knobs(KEEP_ALIVE_S),
    "keep alive before CONNECT": "60 s (built in): a silent new connection is closed after " +
      "90 to 97 s",
    "max_keepalive": "65535 (default)",
    "SO_KEEPALIVE": "off (not set by mosquitto)",
    "TCP_USER_TIMEOUT": "unset",
    "message_size_limit": "0 (default: MQTT's 256 MiB)",
  },
  variants: {
    "keepalive-60": {
      title: "clients say keep alive 60 s instead of 10 s",
      knobs: knobs(60),
      start,
      protocol: protocol(60),
    },
  },
});
