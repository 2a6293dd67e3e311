import assert from "node:assert/strict";
import { PacketClassifier } from "./packet_classifier.ts";
import { parseTcpdumpLine, type TcpdumpPacket, tcpdumpRecords } from "./tcpdump_line.ts";

/** Classifies a real capture (see tcpdump_line_test.ts) and lists the labelled segments. */
function labelled(file: string): string[] {
  const text = Deno.readTextFileSync(new URL(`./testdata/${file}`, import.meta.url));
  const classifier = new PacketClassifier();
  return tcpdumpRecords(text)
    .map(parseTcpdumpLine)
    .filter((p): p is TcpdumpPacket => p !== undefined)
    .flatMap((p) => {
      const kinds = classifier.classify(p);
      return kinds.length ? [`${(p.wallMs / 1000).toFixed(6)} ${p.src.port} ${kinds}`] : [];
    });
}

Deno.test("PacketClassifier finds keepalive probes, answered (IPv4, IPv6) and unanswered, and nothing else", () => {
  // Keepalive fixture (idle 2 s, interval 1 s): one answered probe on each connection, then
  // the IPv4 client dropped at the router: two unanswered probes and the RST.
  assert.deepEqual(labelled("tcpdump_keepalive.txt"), [
    "1795482484.754386 8080 keepalive_probe",
    "1795482484.786340 8081 keepalive_probe",
    "1795482486.770319 8080 keepalive_probe",
    "1795482487.794358 8080 keepalive_probe",
  ]);
});

Deno.test("PacketClassifier finds retransmissions, zero windows and zero-window probes", () => {
  // A server writing to two clients that stop reading (IPv6 port 47862, IPv4 port 37986); the
  // IPv4 client is then dropped at the router, so its probes go unanswered.
  assert.deepEqual(labelled("tcpdump_zero_window.txt"), [
    "1795482887.718293 9000 retransmission",
    "1795482887.754326 37986 zero_window",
    "1795482887.758316 9000 retransmission",
    "1795482887.782358 47862 zero_window",
    "1795482887.966326 9000 zero_window_probe",
    "1795482887.966360 37986 zero_window",
    "1795482887.998323 9000 zero_window_probe",
    "1795482887.998356 47862 zero_window",
    "1795482888.402293 9000 zero_window_probe",
    "1795482888.434322 9000 zero_window_probe",
    "1795482889.266353 9000 zero_window_probe",
    "1795482889.298340 9000 zero_window_probe",
    "1795482889.298379 47862 zero_window",
    "1795482890.962369 9000 zero_window_probe",
    "1795482891.026332 9000 zero_window_probe",
    "1795482891.026375 47862 zero_window",
  ]);
});

const segment = (p: Partial<TcpdumpPacket>): TcpdumpPacket => ({
  wallMs: 0,
  src: { address: "198.51.100.2", port: 80 },
  dst: { address: "192.0.2.2", port: 40000 },
  flags: ["ACK"],
  seq: 1000,
  ack: 1,
  window: 64,
  length: 0,
  ...p,
});
const fromClient = { src: segment({}).dst, dst: segment({}).src };

Deno.test("PacketClassifier learns what was sent from the peer's ACKs when the capture starts mid-connection", () => {
  const c = new PacketClassifier();
  assert.deepEqual(c.classify(segment({ seq: 999 })), []); // nothing known yet
  assert.deepEqual(c.classify(segment({ ...fromClient, seq: 1, ack: 1000 })), []);
  assert.deepEqual(c.classify(segment({ seq: 999 })), ["keepalive_probe"]);
  // A one-byte keepalive (other stacks) one below the acknowledged data.
  assert.deepEqual(c.classify(segment({ seq: 999, length: 1 })), ["keepalive_probe"]);
});

Deno.test("PacketClassifier: sequence comparisons wrap at 2^32", () => {
  const c = new PacketClassifier();
  c.classify(segment({ seq: 4294967000, length: 1000, flags: ["PSH", "ACK"] })); // ends at 704
  assert.deepEqual(c.classify(segment({ seq: 4294967200, length: 100 })), ["retransmission"]);
  assert.deepEqual(c.classify(segment({ seq: 704, length: 100 })), []);
  c.classify(segment({ ...fromClient, seq: 1, ack: 804 }));
  assert.deepEqual(c.classify(segment({ seq: 803 })), ["keepalive_probe"]);
});
