import assert from "node:assert/strict";
import { parseTcpdumpLine, parseTcpdumpUnreachable, tcpdumpRecords } from "./tcpdump_line.ts";

// Captured at a lab router on Linux 6.18 with tcpdump 4.99.3:
// tcpdump -i r1 -n -l --immediate-mode -tt --time-stamp-precision=micro -S -vv -K tcp port ...
const keepalive = Deno.readTextFileSync(
  new URL("./testdata/tcpdump_keepalive.txt", import.meta.url),
);
const zeroWindow = Deno.readTextFileSync(
  new URL("./testdata/tcpdump_zero_window.txt", import.meta.url),
);

Deno.test("tcpdumpRecords joins an IPv4 packet's two lines and keeps IPv6 ones whole", () => {
  const records = tcpdumpRecords(keepalive);
  assert.equal(records.length, 17);
  assert.match(
    records[0] ?? "",
    /^1795482482\.727330 IP \(tos .* length 60\) 192\.0\.2\.2\.37178 > /,
  );
  assert.match(records[3] ?? "", /^1795482482\.761089 IP6 .* 2001:db8:c::2\.46450 > /);
});

Deno.test("parseTcpdumpLine reads an IPv4 SYN, its time to the microsecond", () => {
  const [syn] = tcpdumpRecords(keepalive).map(parseTcpdumpLine);
  assert.deepEqual(syn, {
    wallMs: 1795482482727.33,
    src: { address: "192.0.2.2", port: 37178 },
    dst: { address: "198.51.100.2", port: 8080 },
    flags: ["SYN"],
    seq: 1093340212,
    ack: undefined,
    window: 64240,
    length: 0,
  });
});

Deno.test("parseTcpdumpLine reads IPv6 segments: SYN-ACK, keepalive probe, FIN", () => {
  const packets = tcpdumpRecords(keepalive).map(parseTcpdumpLine);
  assert.deepEqual(packets[4], {
    wallMs: 1795482482761.142,
    src: { address: "2001:db8:5::2", port: 8081 },
    dst: { address: "2001:db8:c::2", port: 46450 },
    flags: ["SYN", "ACK"],
    seq: 2642641867,
    ack: 1850556806,
    window: 64260,
    length: 0,
  });
  // Without payload, the sequence number shows only with -vv: a keepalive probe is such a segment.
  assert.equal(packets[8]?.seq, 2642641867);
  assert.deepEqual(packets[8]?.flags, ["ACK"]);
  assert.deepEqual(packets[13]?.flags, ["FIN", "ACK"]);
  assert.deepEqual(packets[12]?.flags, ["RST", "ACK"]);
});

Deno.test("parseTcpdumpLine reads payload ranges, GSO super-segments included, and zero windows", () => {
  const packets = tcpdumpRecords(zeroWindow).map(parseTcpdumpLine);
  const data = packets[3];
  assert.deepEqual([data?.flags, data?.seq, data?.length], [["PSH", "ACK"], 3601704264, 7140]);
  // 40544 bytes in one segment: veth passes GSO segments larger than the MTU.
  assert.ok(packets.some((p) => p?.length === 40544));
  const closed = packets.find((p) => p?.window === 0);
  assert.deepEqual([closed?.src.address, closed?.window, closed?.ack], [
    "192.0.2.2",
    0,
    3566232371,
  ]);
});

Deno.test("parseTcpdumpLine ignores what is not a TCP segment", () => {
  for (const line of ["50 packets captured", "tcpdump: listening on r1, link-type EN10MB", ""]) {
    assert.equal(parseTcpdumpLine(line), undefined);
  }
});

// The router's answers to segments it rejects, captured with the same command plus
// "or icmp[icmptype] == icmp-unreach or (icmp6 and ip6[40] == 1)" (a lab router without a
// route to the destination: "net unreachable"; IPv6: "unreachable route").
const unreachable = Deno.readTextFileSync(
  new URL("./testdata/tcpdump_unreachable.txt", import.meta.url),
);

Deno.test("parseTcpdumpUnreachable reads ICMP and ICMPv6 unreachables; their quoted segment is no segment", () => {
  const records = tcpdumpRecords(unreachable);
  const icmp = records.map(parseTcpdumpUnreachable).filter((m) => m !== undefined);
  assert.deepEqual(icmp.map((m) => [m.src, m.dst, m.says, m.quotedDstPort]), [
    ["198.51.100.1", "198.51.100.10", "net 203.0.113.5 unreachable", 7000],
    ["198.51.100.1", "198.51.100.10", "net 203.0.113.6 unreachable", 7000],
    ["2001:db8:1::1", "2001:db8:1::10", "unreachable route 2001:db8:2::5", undefined],
  ]);
  assert.equal(icmp[0]?.wallMs, 1796041064910.459);
  assert.deepEqual(icmp.map((m) => m.quotedProtocol), ["TCP", "TCP", undefined]);
  // Only the three SYNs are segments: the ICMP records are not read as the segment they quote.
  const segments = records.filter((r) => !parseTcpdumpUnreachable(r)).map(parseTcpdumpLine);
  assert.equal(segments.filter((p) => p !== undefined).length, 3);
});

Deno.test("parseTcpdumpUnreachable names the protocol of a quoted datagram that is not TCP", () => {
  // The server's own DNS query, answered by the router: about no TCP connection.
  const record = [
    "1796041070.100000 IP (tos 0xc0, ttl 64, id 7, offset 0, flags [none], proto ICMP (1), length 84)",
    "    198.51.100.1 > 198.51.100.10: ICMP net 203.0.113.53 unreachable, length 64",
    "\tIP (tos 0x0, ttl 64, id 9, offset 0, flags [DF], proto UDP (17), length 56)",
    "    198.51.100.10.41234 > 203.0.113.53.53: 4660+ A? example.test. (28)",
  ].join("\n");
  const [message] = tcpdumpRecords(record).map(parseTcpdumpUnreachable);
  assert.equal(message?.quotedProtocol, "UDP");
  assert.equal(message?.quotedDstPort, undefined);
});
