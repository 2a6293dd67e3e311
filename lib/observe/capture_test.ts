import assert from "node:assert/strict";
import { monotonicMs } from "../libc/libc.ts";
import { CLIENT, SERVER } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { onPath } from "../process/spawn.ts";
import { droppedByKernel, type PacketEvent, startCapture } from "./capture.ts";
import { connectIdleClient, dropAtRouter, startKeepaliveServer } from "./testdata/keepalive_lab.ts";

const PORT = 8080;
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
      children.push(await startKeepaliveServer(lab.hosts, "::", PORT));
      const beforeConnect = monotonicMs();
      const v4 = await connectIdleClient(lab.hosts, SERVER.v4, PORT);
      const afterConnect = monotonicMs();
      children.push(v4);
      const v6 = await connectIdleClient(lab.hosts, SERVER.v6, PORT);
      children.push(v6);
      await dropAtRouter(lab.hosts, CLIENT.v4);
      // Fixture: probes at 2 s and 3 s of silence, abort with RST at 4 s; 4.6 s leaves
      // room for timer slack and gives the IPv6 connection its answered probe at 2 s.
      await new Promise((resolve) => setTimeout(resolve, 4600));
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
      assert.deepEqual(summary(four), [
        "C>S SYN ",
        "S>C SYN,ACK ",
        "C>S ACK ",
        "S>C ACK keepalive_probe",
        "S>C ACK keepalive_probe",
        "S>C RST,ACK ",
      ]);
      // The wall-clock stamps land on the monotonic clock: the SYN went out while connecting.
      const syn = four[0]!;
      assert.ok(syn.at >= beforeConnect - 5 && syn.at <= afterConnect + 5, `SYN at ${syn.at}`);
      // Probes at 2 s and 3 s of silence, RST at 4 s, never early; tolerance +250 ms: each
      // keepalive timer is rounded up by the timer wheel (32 ms at HZ=250) and may run late
      // on a loaded host.
      const silence = four.map((e) => e.at - four[2]!.at);
      console.log("IPv4 ms after the client's last segment:", silence.slice(3).map(Math.round));
      for (const [i, expected] of [[3, 2000], [4, 3000], [5, 4000]] as const) {
        assert.ok(
          silence[i]! >= expected && silence[i]! <= expected + 250,
          `Segment ${i} at ${silence[i]} ms, expected ${expected} ms (+250)`,
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
