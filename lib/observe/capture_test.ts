import assert from "node:assert/strict";
import { monotonicMs } from "../libc/libc.ts";
import { CLIENT, SERVER } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { onPath } from "../process/spawn.ts";
import { droppedByKernel, type PacketEvent, printedAll, startCapture } from "./capture.ts";
import { watchSocket } from "./socket_watch.ts";
import { connectIdleClient, dropAtRouter, startKeepaliveServer } from "./testdata/keepalive_lab.ts";

const PORT = 8080;
/**
 * How late a keepalive timer may fire: each is rounded up by the timer wheel (32 ms at
 * HZ=250) and may run late on a loaded host.
 */
const TIMER_SLACK_MS = 250;
/**
 * How long tcpdump may take to print a packet the kernel has sent: a capture stopped sooner
 * can miss it (a stopped tcpdump prints nothing more). The margin this test always had.
 */
const TCPDUMP_LAG_MS = 600;
const noTcpdump = !onPath("tcpdump");

Deno.test({
  name:
    "capture at the router sees keepalive probes, answered (IPv6) and unanswered (IPv4), then the RST",
  ignore: noTcpdump,
  async fn() {
    const lab = await createLab();
    const children: { end(): Promise<unknown> }[] = [];
    try {
      const capture = await startCapture(lab, { iface: "r1", port: PORT });
      assert.ok(capture.available, capture.available ? "" : capture.reason);
      children.push({ end: () => capture.stop() });
      const server = await startKeepaliveServer(lab.hosts, "::", PORT);
      children.push(server);
      const beforeConnect = monotonicMs();
      const v4 = await connectIdleClient(lab.hosts, SERVER.v4, PORT);
      const afterConnect = monotonicMs();
      children.push(v4);
      await dropAtRouter(lab.hosts, CLIENT.v4);
      const v6 = await connectIdleClient(lab.hosts, SERVER.v6, PORT);
      const v6Connected = monotonicMs();
      children.push(v6);
      // Fixture: probes at 2 s and 3 s of silence, abort with RST at 4 s. The capture ends
      // once the server's kernel has ended the IPv4 connection (its fd still held) and tcpdump
      // has had time to print the RST, and no sooner than the IPv6 probe's 2 s plus the
      // tolerance below.
      const watch = watchSocket(server.pid, v4.local, { localPort: PORT });
      const ended = await watch.waitFor((e) => e.holding === "closed_fd_held", 20_000);
      watch.stop();
      assert.ok(ended, "The server's kernel never ended the IPv4 connection");
      const rest = Math.max(TCPDUMP_LAG_MS, v6Connected + 2000 + TIMER_SLACK_MS - monotonicMs());
      await new Promise((resolve) => setTimeout(resolve, rest));
      const { packets: events, droppedByKernel: dropped } = await capture.stop();
      // tcpdump says how many packets the kernel dropped as it ends: none, on this quiet lab.
      assert.equal(dropped, 0);
      const of = (port: number) => events.filter((e) => e.client.port === port);
      const summary = (list: PacketEvent[]) =>
        list.map((e) =>
          `${e.direction === "server_to_client" ? "S>C" : "C>S"} ${e.flags} ${e.kinds}`
        );

      const four = of(v4.local.port);
      console.log("IPv4:", summary(four));
      // The drop comes after the handshake; on a busy host it may come after the first probe,
      // which is then answered. From the client's last segment on, the kernel's timers alone.
      const last = four.findLastIndex((e) => e.direction === "client_to_server");
      assert.deepEqual(summary(four.slice(0, 3)), ["C>S SYN ", "S>C SYN,ACK ", "C>S ACK "]);
      assert.deepEqual(
        summary(four.slice(3, last + 1)),
        summary(four.slice(3, last + 1)).map((_, i) =>
          i % 2 ? "C>S ACK " : "S>C ACK keepalive_probe"
        ),
        "Before the drop: answered probes only",
      );
      assert.deepEqual(summary(four.slice(last + 1)), [
        "S>C ACK keepalive_probe",
        "S>C ACK keepalive_probe",
        "S>C RST,ACK ",
      ]);
      // The wall-clock stamps land on the monotonic clock: the SYN went out while connecting.
      const syn = four[0]!;
      assert.ok(syn.at >= beforeConnect - 5 && syn.at <= afterConnect + 5, `SYN at ${syn.at}`);
      // Probes at 2 s and 3 s of silence, RST at 4 s, never early (kernel stamps of the
      // capture, not a poll: the runner's load does not enter them).
      const silence = four.slice(last).map((e) => e.at - four[last]!.at);
      console.log("IPv4 ms after the client's last segment:", silence.slice(1).map(Math.round));
      for (const [i, expected] of [[1, 2000], [2, 3000], [3, 4000]] as const) {
        assert.ok(
          silence[i]! >= expected && silence[i]! <= expected + TIMER_SLACK_MS,
          `Segment ${i} at ${silence[i]} ms, expected ${expected} ms (+${TIMER_SLACK_MS})`,
        );
      }

      const six = of(v6.local.port);
      console.log("IPv6:", summary(six));
      assert.deepEqual(summary(six).slice(0, 5), [
        "C>S SYN ",
        "S>C SYN,ACK ",
        "C>S ACK ",
        "S>C ACK keepalive_probe",
        "C>S ACK ", // answered
      ]);
      assert.ok(
        six.every((e) => e.client.address === CLIENT.v6 || e.client.address === v6.local.address),
      );
    } finally {
      for (const child of children.reverse()) await child.end();
      await lab.teardown();
    }
  },
});

Deno.test({
  name: "startCapture reports a capture it cannot make as unavailable, with tcpdump's reason",
  ignore: noTcpdump,
  async fn() {
    const lab = await createLab();
    try {
      const capture = await startCapture(lab, { iface: "nosuch0", port: PORT });
      assert.equal(capture.available, false);
      assert.match(capture.available ? "" : capture.reason, /"nosuch0".*nosuch0/);
    } finally {
      await lab.teardown();
    }
  },
});

Deno.test("droppedByKernel reads tcpdump's closing statistics", () => {
  const said = "12 packets captured\n12 packets received by filter\n3 packets dropped by kernel\n";
  assert.equal(droppedByKernel(said), 3);
  assert.equal(droppedByKernel("1 packet dropped by kernel"), 1);
  assert.equal(droppedByKernel("tcpdump: listening on r1-s"), undefined);
});

Deno.test("printedAll: tcpdump has printed everything once its statistics follow its last newline", () => {
  const stats = "2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n";
  const lines =
    "1.000001 IP 10.0.0.1.5 > 10.0.0.2.7: Flags [S]\n1.000002 IP 10.0.0.2.7 > 10.0.0.1.5: Flags [S.]\n";
  // Interrupted, it adds a newline to stdout (a line may have been cut short), then the statistics.
  assert.equal(printedAll(`${lines}\n`, `listening on r1\n${stats}`), true);
  assert.equal(printedAll("\n", stats), true); // nothing captured
  // Still capturing, or the statistics not read yet, or the last newline not read yet.
  assert.equal(printedAll(lines, "listening on r1\n"), false);
  assert.equal(printedAll(`${lines}\n`, "listening on r1\n2 packets captured\n"), false);
  assert.equal(printedAll(lines, stats), false);
  assert.equal(printedAll("", stats), false);
});
