/**
 * Prepares the mosquitto target's large response, run in the server host once mosquitto
 * listens: `deno run --allow-net queue_large_message.ts <address> <port>`.
 *
 * The client agent can send only bytes below 0x80 (see mqtt_packets.ts), and SUBSCRIBE
 * starts with 0x82, so its large request cannot subscribe. Instead this script leaves a
 * persistent session (clean session 0, MQTT 3.1.1 §3.1.2.4) subscribed at QoS 1, then
 * publishes one large QoS 1 message to it while it is offline: mosquitto queues it, and a
 * CONNECT that resumes the session (all bytes below 0x80) gets it at once. The agent never
 * acknowledges it, so mosquitto would deliver it again to the next such CONNECT.
 *
 * @module
 */

import {
  CONNACK_ACCEPTED,
  connectPacket,
  DISCONNECT,
  pubackPacket,
  publishHeader,
  subackPacket,
  subscribePacket,
} from "./mqtt_packets.ts";

/** The session that holds the large message. */
export const LARGE_CLIENT_ID = "clientdown-large";
/** The topic it is published to. */
export const LARGE_TOPIC = "clientdown/large";
/** Its payload: far larger than any socket buffer. */
export const LARGE_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** The whole script may take this long; mosquitto answers each step in milliseconds. */
const TIMEOUT_MS = 30_000;
const PACKET_ID = 1;
const WRITE_CHUNK = 1024 * 1024;

async function readExactly(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await conn.read(out.subarray(got));
    if (n === null) throw new Error(`Mosquitto closed the connection after ${got} bytes`);
    got += n;
  }
  return out;
}

async function expect(conn: Deno.Conn, packet: Uint8Array, what: string): Promise<void> {
  const got = await readExactly(conn, packet.length);
  if (!got.every((byte, i) => byte === packet[i])) {
    throw new Error(`Unexpected ${what} from mosquitto: "${[...got].join(" ")}"`);
  }
}

/** Runs `steps` on a new MQTT connection that CONNECTs first and DISCONNECTs last. */
async function session(
  address: string,
  port: number,
  connect: Uint8Array,
  connack: Uint8Array,
  steps: (conn: Deno.Conn) => Promise<void>,
): Promise<void> {
  const conn = await Deno.connect({ hostname: address, port });
  try {
    await conn.write(connect);
    await expect(conn, connack, "CONNACK");
    await steps(conn);
    await conn.write(DISCONNECT);
  } finally {
    conn.close();
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let written = 0; written < data.length;) {
    written += await conn.write(data.subarray(written));
  }
}

/** Leaves session LARGE_CLIENT_ID subscribed, then queues the large message for it. */
export async function queueLargeMessage(address: string, port: number): Promise<void> {
  const resume = connectPacket({ clientId: LARGE_CLIENT_ID, cleanSession: false, keepAliveS: 60 });
  await session(address, port, resume, CONNACK_ACCEPTED, async (conn) => {
    await conn.write(subscribePacket(PACKET_ID, LARGE_TOPIC, 1));
    await expect(conn, subackPacket(PACKET_ID, 1), "SUBACK");
  });
  const publisher = connectPacket({ clientId: "", cleanSession: true, keepAliveS: 60 });
  await session(address, port, publisher, CONNACK_ACCEPTED, async (conn) => {
    await writeAll(conn, publishHeader(LARGE_TOPIC, PACKET_ID, LARGE_PAYLOAD_BYTES));
    const zeros = new Uint8Array(WRITE_CHUNK);
    for (let sent = 0; sent < LARGE_PAYLOAD_BYTES; sent += zeros.length) {
      await writeAll(conn, zeros.subarray(0, Math.min(zeros.length, LARGE_PAYLOAD_BYTES - sent)));
    }
    await expect(conn, pubackPacket(PACKET_ID), "PUBACK");
  });
}

if (import.meta.main) {
  const [address, port] = Deno.args;
  if (address === undefined || !/^\d+$/.test(port ?? "")) {
    console.error("Usage: queue_large_message.ts <address> <port>");
    Deno.exit(2);
  }
  const timer = setTimeout(() => {
    console.error(`Mosquitto did not take the large message within "${TIMEOUT_MS}" ms`);
    Deno.exit(1);
  }, TIMEOUT_MS);
  await queueLargeMessage(address, Number(port));
  clearTimeout(timer);
}
