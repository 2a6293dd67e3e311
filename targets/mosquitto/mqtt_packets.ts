/**
 * The few MQTT 3.1.1 control packets the mosquitto target needs (OASIS MQTT 3.1.1 §3),
 * encoded as bytes, and `agentString` to pass them to the client agent, which sends UTF-8
 * strings: bytes that form valid UTF-8 are the UTF-8 encoding of exactly one string.
 *
 * @module
 */

/** The CONNACK of an accepted clean session (§3.2: session present 0, return code 0). */
export const CONNACK_ACCEPTED: Uint8Array = Uint8Array.of(0x20, 0x02, 0x00, 0x00);

/** DISCONNECT (§3.14). */
export const DISCONNECT: Uint8Array = Uint8Array.of(0xe0, 0x00);

/** The longest remaining length MQTT can encode (§2.2.3). */
const MAX_REMAINING_LENGTH = 268_435_455;

/**
 * The remaining-length field of a fixed header (§2.2.3): 7 bits a byte, low bits first.
 *
 * @example
 * ```ts
 * import { remainingLength } from "./mqtt_packets.ts";
 * remainingLength(321); // Uint8Array [0xc1, 0x02]
 * ```
 */
export function remainingLength(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > MAX_REMAINING_LENGTH) {
    throw new RangeError(
      `Invalid MQTT remaining length: "${length}" (0 to ${MAX_REMAINING_LENGTH})`,
    );
  }
  const out: number[] = [];
  let rest = length;
  do {
    const digit = rest % 128;
    rest = Math.floor(rest / 128);
    out.push(rest > 0 ? digit | 0x80 : digit);
  } while (rest > 0);
  return Uint8Array.from(out);
}

function mqttString(text: string): number[] {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 0xffff) {
    throw new RangeError(`MQTT string too long: "${bytes.length}" bytes (at most 65535)`);
  }
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

function withFixedHeader(first: number, body: readonly number[]): Uint8Array {
  return Uint8Array.from([first, ...remainingLength(body.length), ...body]);
}

/** What a CONNECT says about the client. */
export interface ConnectOptions {
  /** Empty asks the server to assign an id (§3.1.3.1; needs a clean session). */
  clientId: string;
  /** Clean session (§3.1.2.4): false keeps the session and its queued messages. */
  cleanSession: boolean;
  /** Keep alive in seconds (§3.1.2.10); 0 turns the server's check off. */
  keepAliveS: number;
}

/**
 * CONNECT (§3.1), protocol level 4, no will, user name or password.
 *
 * @example
 * ```ts
 * import { connectPacket } from "./mqtt_packets.ts";
 * const connect = connectPacket({ clientId: "", cleanSession: true, keepAliveS: 10 });
 * ```
 */
export function connectPacket(options: ConnectOptions): Uint8Array {
  const { clientId, cleanSession, keepAliveS } = options;
  if (!Number.isInteger(keepAliveS) || keepAliveS < 0 || keepAliveS > 0xffff) {
    throw new RangeError(`Invalid MQTT keep alive: "${keepAliveS}" s (0 to 65535)`);
  }
  const flags = cleanSession ? 0x02 : 0x00;
  return withFixedHeader(0x10, [
    ...mqttString("MQTT"),
    0x04,
    flags,
    keepAliveS >> 8,
    keepAliveS & 0xff,
    ...mqttString(clientId),
  ]);
}

/**
 * SUBSCRIBE (§3.8) to one topic filter.
 *
 * @example
 * ```ts
 * import { subscribePacket } from "./mqtt_packets.ts";
 * const subscribe = subscribePacket(1, "clientdown/large", 1);
 * ```
 */
export function subscribePacket(packetId: number, topic: string, qos: 0 | 1 | 2): Uint8Array {
  return withFixedHeader(0x82, [...packetIdBytes(packetId), ...mqttString(topic), qos]);
}

/** The SUBACK (§3.9) that grants `qos` to a one-topic SUBSCRIBE with `packetId`. */
export function subackPacket(packetId: number, qos: 0 | 1 | 2): Uint8Array {
  return Uint8Array.of(0x90, 0x03, ...packetIdBytes(packetId), qos);
}

/** How a PUBLISH is delivered (§3.3.1). */
export type PublishOptions =
  /** At most once: no packet identifier. */
  | { qos: 0; retain?: boolean }
  /** At least once: acknowledged by a PUBACK carrying `packetId`. */
  | { qos: 1; packetId: number; retain?: boolean };

/**
 * The fixed and variable header of a PUBLISH (§3.3) whose payload of `payloadBytes` follows
 * separately: a large payload need not be copied behind its header.
 *
 * @example
 * ```ts
 * import { publishHeader } from "./mqtt_packets.ts";
 * const header = publishHeader("clientdown/large", 64 * 1024 * 1024, { qos: 1, packetId: 1 });
 * header.length; // 25
 * ```
 */
export function publishHeader(
  topic: string,
  payloadBytes: number,
  options: PublishOptions,
): Uint8Array {
  const variable = [
    ...mqttString(topic),
    ...(options.qos === 1 ? packetIdBytes(options.packetId) : []),
  ];
  return Uint8Array.from([
    0x30 | (options.qos << 1) | (options.retain ? 0x01 : 0x00),
    ...remainingLength(variable.length + payloadBytes),
    ...variable,
  ]);
}

/**
 * A whole PUBLISH (§3.3) with a small payload.
 *
 * @example
 * ```ts
 * import { publishPacket } from "./mqtt_packets.ts";
 * const ping = publishPacket("t", new Uint8Array(), { qos: 1, packetId: 1 }); // 32 05 00 01 74 00 01
 * ```
 */
export function publishPacket(
  topic: string,
  payload: Uint8Array,
  options: PublishOptions,
): Uint8Array {
  return Uint8Array.from([...publishHeader(topic, payload.length, options), ...payload]);
}

/** The PUBACK (§3.4) of the QoS 1 PUBLISH with `packetId`. */
export function pubackPacket(packetId: number): Uint8Array {
  return Uint8Array.of(0x40, 0x02, ...packetIdBytes(packetId));
}

function packetIdBytes(packetId: number): number[] {
  if (!Number.isInteger(packetId) || packetId < 1 || packetId > 0xffff) {
    throw new RangeError(`Invalid MQTT packet identifier: "${packetId}" (1 to 65535)`);
  }
  return [packetId >> 8, packetId & 0xff];
}

/**
 * The string whose UTF-8 encoding is exactly `packets`, for the client agent (it sends and
 * matches UTF-8). Bytes below 0x80 stand for themselves; a byte from 0x80 counts only inside a
 * valid UTF-8 sequence (e.g. 0xC2 then 0x82: U+0082), so any other is a RangeError.
 *
 * @example
 * ```ts
 * import { agentString, CONNACK_ACCEPTED } from "./mqtt_packets.ts";
 * agentString(CONNACK_ACCEPTED); // "\x20\x02\x00\x00"
 * ```
 */
export function agentString(packets: Uint8Array): string {
  // Decoding replaces an invalid byte with U+FFFD, so encoding back differs from it on.
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(packets);
  const back = new TextEncoder().encode(text);
  const differs = packets.findIndex((byte, i) => back[i] !== byte);
  if (differs >= 0 || back.length !== packets.length) {
    // Equal as far as it goes: a sequence cut short at the end, from its lead byte on.
    const i = differs >= 0 ? differs : packets.findLastIndex((byte) => byte >= 0xc0);
    throw new RangeError(
      `MQTT packet byte ${i} is "0x${
        packets[i]?.toString(16)
      }": the client agent sends UTF-8, and it is not part of a valid UTF-8 sequence`,
    );
  }
  return text;
}
