import assert from "node:assert/strict";
import {
  agentString,
  CONNACK_ACCEPTED,
  connectPacket,
  pubackPacket,
  publishHeader,
  publishPacket,
  remainingLength,
  subackPacket,
  subscribePacket,
} from "./mqtt_packets.ts";

Deno.test("remainingLength encodes the examples of MQTT 3.1.1 §2.2.3 and refuses the rest", () => {
  const cases: [number, number[]][] = [
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [16_383, [0xff, 0x7f]],
    [16_384, [0x80, 0x80, 0x01]],
    [2_097_151, [0xff, 0xff, 0x7f]],
    [2_097_152, [0x80, 0x80, 0x80, 0x01]],
    [268_435_455, [0xff, 0xff, 0xff, 0x7f]],
  ];
  for (const [length, bytes] of cases) assert.deepEqual([...remainingLength(length)], bytes);
  assert.throws(() => remainingLength(268_435_456), RangeError);
  assert.throws(() => remainingLength(-1), RangeError);
});

Deno.test("connectPacket lays out a CONNECT as MQTT 3.1.1 §3.1 does", () => {
  const mqtt = [0x4d, 0x51, 0x54, 0x54];
  assert.deepEqual(
    [...connectPacket({ clientId: "", cleanSession: true, keepAliveS: 10 })],
    [0x10, 12, 0, 4, ...mqtt, 0x04, 0x02, 0, 10, 0, 0],
  );
  const resume = connectPacket({ clientId: "ab", cleanSession: false, keepAliveS: 300 });
  assert.deepEqual([...resume.subarray(0, 2)], [0x10, 14]);
  assert.deepEqual([...resume.subarray(9)], [0x00, 0x01, 0x2c, 0x00, 0x02, 0x61, 0x62]);
  assert.throws(() => connectPacket({ clientId: "", cleanSession: true, keepAliveS: 65536 }));
});

Deno.test("subscribe, suback, publish and puback carry the packet identifier", () => {
  assert.deepEqual([...subscribePacket(1, "t", 1)], [0x82, 6, 0, 1, 0, 1, 0x74, 1]);
  assert.deepEqual([...subackPacket(258, 1)], [0x90, 3, 1, 2, 1]);
  assert.deepEqual([...pubackPacket(1)], [0x40, 2, 0, 1]);
  // 2 + 16 (topic) + 2 (packet id) + 64 MiB of payload: four length bytes.
  const header = publishHeader("clientdown/large", 64 * 1024 * 1024, { qos: 1, packetId: 1 });
  assert.deepEqual([...header.subarray(0, 5)], [0x32, 0x94, 0x80, 0x80, 0x20]);
  assert.equal(header.length, 25);
  assert.throws(() => pubackPacket(0), RangeError);
});

Deno.test("publish headers carry QoS and retain in the first byte, a packet id only at QoS 1", () => {
  const none = new Uint8Array();
  assert.deepEqual([...publishPacket("t", none, { qos: 1, packetId: 1 })], [
    0x32,
    5,
    0,
    1,
    0x74,
    0,
    1,
  ]);
  assert.deepEqual([...publishPacket("t", Uint8Array.of(0xc2), { qos: 0 })], [
    0x30,
    4,
    0,
    1,
    0x74,
    0xc2,
  ]);
  assert.deepEqual([...publishHeader("t", 9, { qos: 0, retain: true })], [0x31, 12, 0, 1, 0x74]);
  assert.deepEqual([...publishHeader("t", 0, { qos: 1, packetId: 2, retain: true })], [
    0x33,
    5,
    0,
    1,
    0x74,
    0,
    2,
  ]);
});

Deno.test("agentString gives the string the agent sends as exactly the packet's bytes", () => {
  assert.equal(agentString(CONNACK_ACCEPTED), "\x20\x02\x00\x00");
  // A lead byte 0xC2 at the end of one packet makes 0x82 (SUBSCRIBE) a valid sequence.
  const packets = Uint8Array.of(0x30, 4, 0, 1, 0x74, 0xc2, ...subscribePacket(1, "t", 0));
  const text = agentString(packets);
  assert.equal(text, "\x30\x04\x00\x01t\u0082\x06\x00\x01\x00\x01t\x00");
  assert.deepEqual(new TextEncoder().encode(text), packets);
  // A leading EF BB BF would be a byte-order mark to a default TextDecoder: kept here.
  assert.deepEqual([...new TextEncoder().encode(agentString(Uint8Array.of(0xef, 0xbb, 0xbf)))], [
    0xef,
    0xbb,
    0xbf,
  ]);
});

Deno.test("agentString names the first byte that is not part of valid UTF-8", () => {
  assert.throws(() => agentString(Uint8Array.of(0x10, 0xc0, 0x00)), {
    name: "RangeError",
    message:
      'MQTT packet byte 1 is "0xc0": the client agent sends UTF-8, and it is not part of a valid UTF-8 sequence',
  });
  assert.throws(() => agentString(subscribePacket(1, "t", 0)), /byte 0 is "0x82"/);
  // Cut short at the end: named from its lead byte.
  assert.throws(() => agentString(Uint8Array.of(0x41, 0xef, 0xbf)), /byte 1 is "0xef"/);
});
