import assert from "node:assert/strict";
import { createLab } from "../lab/lab.ts";
import { icmpUnreachable } from "./icmp_unreachable.ts";
import { connectClient, eventually, serverSockets, startServer } from "./testdata/fixture.ts";
import { FaultUnsupported } from "./unsupported.ts";

const PORT = 7005;

/** The server host's count of ICMP destination-unreachable errors received. */
function destUnreachables(pid: number, family: "v4" | "v6"): number {
  const file = Deno.readTextFileSync(`/proc/${pid}/net/${family === "v4" ? "snmp" : "snmp6"}`);
  if (family === "v6") return Number(/^Icmp6InDestUnreachs\s+(\d+)/m.exec(file)?.[1]);
  const [names = "", values = ""] = file.split("\n").filter((l) => l.startsWith("Icmp: "));
  return Number(values.split(/\s+/)[names.split(/\s+/).indexOf("InDestUnreachs")]);
}

for (const kind of ["host-unreachable", "admin-prohibited"] as const) {
  for (const family of ["v4", "v6"] as const) {
    Deno.test(`icmpUnreachable ${kind} (${family}): a soft error, the server keeps retransmitting`, async () => {
      const lab = await createLab();
      const server = await startServer(lab, PORT);
      const conn = await connectClient(lab, server, PORT, { family });
      try {
        const icmpBefore = destUnreachables(server.pid, family);
        const icmp = await icmpUnreachable(lab, { kind });
        assert.ok(!(icmp instanceof FaultUnsupported), String(icmp));
        await server.command(`send ${conn.id} 1000`);
        await conn.client.command("send 100");
        await eventually(
          () => serverSockets(server, conn.localPort).some((s) => s.retransmits >= 2),
          "the server to retransmit twice",
        );
        assert.ok(
          destUnreachables(server.pid, family) > icmpBefore,
          "the server got the ICMP error",
        );
        const [socket] = serverSockets(server, conn.localPort);
        assert.equal(socket?.state, "ESTABLISHED");
        assert.equal(socket?.timer, "retransmit");
        assert.ok(!server.events.some((e) => e.event === "error" || e.event === "data"));

        await icmp.undo();
        // Delivered on the next retransmission: less than 2 s of backoff so far, 10 s is ample.
        await conn.client.command("await 1000");
        await conn.client.waitFor((e) => e.event === "received", "the server's data", 10_000);
      } finally {
        await conn.client.stop();
        await server.stop();
        await lab.teardown();
      }
    });
  }
}
