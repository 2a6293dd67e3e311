import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { otherSocketInodes, parseProcNetTcp, readSocketTable, socketFds } from "./proc_net_tcp.ts";

// Lines read from a lab on Linux 6.18: the keepalive fixture on 198.51.100.2:8080 (IPv4) and
// on [::]:8081 (dual stack), clients 192.0.2.2 and 2001:db8:c::2.
const TCP_V4 =
  `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 026433C6:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12882 1 00000000c6e755b4 100 0 0 10 0
   1: 026433C6:1F90 020200C0:913A 01 00000000:00000000 02:00000017 00000000     0        2 12012 2 0000000069037edd 20 0 0 10 -1
`;

const TCP_V6 =
  `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12890 1 00000000d3fe449f 100 0 0 10 0
   1: 0000000000000000FFFF0000026433C6:1F91 0000000000000000FFFF0000020200C0:E91A 01 00000000:00000000 02:00000031 00000000     0        0 12910 2 0000000042cb64fc 20 0 0 10 -1
   2: B80D0120000005000000000002000000:1F91 B80D012000000C000000000002000000:B572 01 00000000:00000000 02:00000031 00000000     0        0 12901 2 00000000c9fc7a6a 20 0 0 10 -1
`;

Deno.test("parseProcNetTcp reads an IPv4 LISTEN row", () => {
  const [listen] = parseProcNetTcp(TCP_V4);
  assert.deepEqual(listen, {
    local: { address: "198.51.100.2", port: 8080 },
    remote: { address: "0.0.0.0", port: 0 },
    state: "LISTEN",
    txQueue: 0,
    rxQueue: 0,
    timer: "none",
    timerMs: 0,
    retransmits: 0,
    probes: 0,
    inode: 12882,
    rtoMs: 1000,
  });
});

Deno.test("parseProcNetTcp reads an IPv4 connection with unanswered keepalive probes", () => {
  const [, established] = parseProcNetTcp(TCP_V4);
  assert.deepEqual(established, {
    local: { address: "198.51.100.2", port: 8080 },
    remote: { address: "192.0.2.2", port: 37178 },
    state: "ESTABLISHED",
    txQueue: 0,
    rxQueue: 0,
    timer: "keepalive",
    timerMs: 230,
    retransmits: 0,
    probes: 2,
    inode: 12012,
    rtoMs: 200,
  });
});

Deno.test("parseProcNetTcp reads IPv6 rows, IPv4-mapped and native", () => {
  const rows = parseProcNetTcp(TCP_V6);
  assert.deepEqual(rows.map((r) => [r.state, r.local, r.remote, r.timer, r.timerMs, r.inode]), [
    ["LISTEN", { address: "::", port: 8081 }, { address: "::", port: 0 }, "none", 0, 12890],
    [
      "ESTABLISHED",
      { address: "::ffff:c633:6402", port: 8081 },
      { address: "::ffff:c000:202", port: 59674 },
      "keepalive",
      490,
      12910,
    ],
    [
      "ESTABLISHED",
      { address: "2001:db8:5::2", port: 8081 },
      { address: "2001:db8:c::2", port: 46450 },
      "keepalive",
      490,
      12901,
    ],
  ]);
});

Deno.test("parseProcNetTcp reads an overdue timer as negative", () => {
  // Linux >= 3.7 clamps an overdue timer to 0; older kernels printed it in two's complement,
  // 8 hex digits (32-bit long) or 16 (64-bit long). The row is the keepalive row above with
  // its timer field as such a kernel printed it.
  const row = (when: string) =>
    TCP_V4.split("\n").slice(0, 1).concat(
      `   1: 026433C6:1F90 020200C0:913A 01 00000000:00000000 02:${when} 00000000     0        2 12012 2 0000000069037edd 20 0 0 10 -1`,
    ).join("\n");
  assert.deepEqual(parseProcNetTcp(row("FFFFFFF6"))[0]?.timerMs, -100);
  assert.deepEqual(parseProcNetTcp(row("FFFFFFFFFFFFFFF6"))[0]?.timerMs, -100);
  assert.deepEqual(parseProcNetTcp(row("00000000"))[0]?.timerMs, 0);
});

Deno.test("parseProcNetTcp skips the header and blank or short lines", () => {
  assert.deepEqual(parseProcNetTcp(TCP_V4.split("\n")[0] + "\n\n   7: 026433C6:1F90\n"), []);
});

Deno.test("otherSocketInodes lists this process's UDP socket, never its TCP listener", async () => {
  const udp = createSocket("udp4");
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (tcp.addr as Deno.NetAddr).port;
    const listener = readSocketTable(Deno.pid).find((e) =>
      e.state === "LISTEN" && e.local.port === port
    );
    assert.ok(listener && socketFds(Deno.pid).has(listener.inode));
    const other = otherSocketInodes(Deno.pid);
    assert.equal(other.has(listener.inode), false);
    // Every socket this process holds is in the TCP table or in the others: none is unlisted.
    const tcpInodes = new Set(readSocketTable(Deno.pid).map((e) => e.inode));
    const unlisted = [...socketFds(Deno.pid).keys()].filter((i) =>
      !tcpInodes.has(i) && !other.has(i)
    );
    assert.deepEqual(unlisted, []);
  } finally {
    udp.close();
    tcp.close();
  }
});
