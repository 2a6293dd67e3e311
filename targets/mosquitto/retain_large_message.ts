/**
 * Prepares the mosquitto target's large response, run in the server host once mosquitto
 * listens: `deno run --allow-net retain_large_message.ts <address> <port>`.
 *
 * It publishes one large message with the retain flag (MQTT 3.1.1 §3.3.1.3): mosquitto keeps
 * it and sends it to every client that subscribes to its topic afterwards, as many times as
 * they subscribe, whatever else happens on the broker. The large request is such a SUBSCRIBE.
 *
 * @module
 */

import {
  CONNACK_ACCEPTED,
  connectPacket,
  DISCONNECT,
  pubackPacket,
  publishHeader,
} from "./mqtt_packets.ts";

/** The topic the large message is retained on. */
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

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let written = 0; written < data.length;) {
    written += await conn.write(data.subarray(written));
  }
}

/** Publishes the large message, retained, at QoS 1, and waits for mosquitto's PUBACK. */
export async function retainLargeMessage(address: string, port: number): Promise<void> {
  const conn = await Deno.connect({ hostname: address, port });
  try {
    await writeAll(conn, connectPacket({ clientId: "", cleanSession: true, keepAliveS: 60 }));
    await expect(conn, CONNACK_ACCEPTED, "CONNACK");
    const header = publishHeader(LARGE_TOPIC, LARGE_PAYLOAD_BYTES, {
      qos: 1,
      packetId: PACKET_ID,
      retain: true,
    });
    await writeAll(conn, header);
    const zeros = new Uint8Array(WRITE_CHUNK);
    for (let sent = 0; sent < LARGE_PAYLOAD_BYTES; sent += zeros.length) {
      await writeAll(conn, zeros.subarray(0, Math.min(zeros.length, LARGE_PAYLOAD_BYTES - sent)));
    }
    await expect(conn, pubackPacket(PACKET_ID), "PUBACK");
    await writeAll(conn, DISCONNECT);
  } finally {
    conn.close();
  }
}

if (import.meta.main) {
  const [address, port] = Deno.args;
  if (address === undefined || !/^\d+$/.test(port ?? "")) {
    console.error("Usage: retain_large_message.ts <address> <port>");
    Deno.exit(2);
  }
  const timer = setTimeout(() => {
    console.error(`Mosquitto did not take the large message within "${TIMEOUT_MS}" ms`);
    Deno.exit(1);
  }, TIMEOUT_MS);
  await retainLargeMessage(address, Number(port));
  clearTimeout(timer);
}
