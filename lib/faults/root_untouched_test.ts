import assert from "node:assert/strict";
import { createLab } from "../lab/lab.ts";
import { diffSnapshots, snapshotHost } from "../lab/host_snapshot.ts";
import { capabilities } from "./capabilities.ts";
import { icmpUnreachable } from "./icmp_unreachable.ts";
import { expireNatNow, installNat } from "./nat.ts";
import { delayLink, lossyLink } from "./netem_link.ts";
import { reboot } from "./reboot.ts";
import { resetFromHost } from "./reset_from_host.ts";
import { slowLink } from "./slow_link.ts";
import { connectClient, startServer } from "./testdata/fixture.ts";
import { FaultUnsupported } from "./unsupported.ts";
import { vanish } from "./vanish.ts";

const PORT = 7007;

/** Conntrack settings of the host (this process lives in the root namespace). */
function hostConntrack(): Record<string, string> {
  const keys = ["nf_conntrack_tcp_timeout_established", "nf_conntrack_tcp_loose"];
  return Object.fromEntries(keys.map((key) => {
    try {
      return [key, Deno.readTextFileSync(`/proc/sys/net/netfilter/${key}`).trim()];
    } catch {
      return [key, "absent"];
    }
  }));
}

function applied<T>(fault: T | FaultUnsupported): T {
  assert.ok(!(fault instanceof FaultUnsupported), String(fault));
  return fault;
}

Deno.test("every fault, applied and undone, leaves the host's rulesets and sysctls as they were", async () => {
  const before = await snapshotHost();
  const conntrackBefore = hostConntrack();
  await capabilities();
  const lab = await createLab();
  try {
    await applied(await vanish(lab)).undo();
    const nat = applied(await installNat(lab, { establishedTimeoutS: 5, strays: "rst" }));
    const server = await startServer(lab, PORT);
    const first = await connectClient(lab, server, PORT);
    const second = await connectClient(lab, server, PORT);
    try {
      applied(await expireNatNow(lab, { clientPort: first.localPort, serverPort: PORT }));
      await applied(await icmpUnreachable(lab, { kind: "admin-prohibited" })).undo();
      await applied(await slowLink(lab, { rateKbit: 64 })).undo();
      for (
        const unsupported of [
          await delayLink(lab, { delayMs: 50 }),
          await lossyLink(lab, { lossPercent: 1 }),
        ]
      ) {
        assert.ok(unsupported instanceof FaultUnsupported);
      }
      applied(await resetFromHost(lab, { localPort: first.localPort }));
      applied(await reboot(lab, { serverPort: PORT }));
    } finally {
      await first.client.stop();
      await second.client.stop();
      await server.stop();
      await nat.undo();
    }
  } finally {
    await lab.teardown();
  }
  assert.deepEqual(diffSnapshots(before, await snapshotHost()), []);
  assert.deepEqual(hostConntrack(), conntrackBefore);
  assert.ok("nft list ruleset" in before && "iptables-save" in before, "both were compared");
});
