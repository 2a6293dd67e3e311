/**
 * Queueing for one client only, both ways: an htb qdisc on each router interface (r0 towards
 * the client, r1 towards the server) with a default class for everyone else and a class for
 * the client, whose leaf qdisc does the shaping. An nft rule steers the client's forwarded
 * packets into that class (`meta priority`, which htb reads as a class id: this kernel has no
 * fw classifier, and a u32 match on addresses would miss the client's packets behind a NAT).
 * The bystander is never shaped.
 *
 * @module
 */

import type { DualAddress } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { run } from "../process/spawn.ts";
import { createTable, deleteTable, type FaultTable, once } from "./_nft.ts";

const INTERFACES = ["r0", "r1"] as const;
const CLIENT_CLASS = "1:10";
const OTHERS_CLASS = "1:20";

/**
 * Installs the shaping, `leaf` being the client's qdisc (e.g. `netem delay 100ms`); resolves
 * with when it took effect and how to remove it.
 */
export async function shapeClient(
  lab: Lab,
  client: DualAddress,
  leaf: string,
): Promise<{ t: number; undo(): Promise<number> }> {
  const router = lab.hosts.router;
  const table: FaultTable = { netns: router, family: "inet", name: "cd_shape" };
  const batch = INTERFACES.flatMap((dev) => [
    `qdisc add dev ${dev} root handle 1: htb default 20`,
    `class add dev ${dev} parent 1: classid ${OTHERS_CLASS} htb rate 10gbit quantum 60000`,
    `class add dev ${dev} parent 1: classid ${CLIENT_CLASS} htb rate 10gbit quantum 60000`,
    `qdisc add dev ${dev} parent ${CLIENT_CLASS} handle 10: ${leaf}`,
  ]);
  const removeQdiscs = async () => {
    for (const dev of INTERFACES) {
      await run(["tc", "qdisc", "del", "dev", dev, "root"], { netns: router, accept: [2] });
    }
  };
  try {
    await run(["tc", "-batch", "-"], { netns: router, input: batch.join("\n") + "\n" });
  } catch (error) {
    await removeQdiscs();
    throw error;
  }
  try {
    await createTable(
      table,
      ` chain forward {
  type filter hook forward priority mangle; policy accept;
  ip saddr ${client.v4} meta priority set ${CLIENT_CLASS}
  ip daddr ${client.v4} meta priority set ${CLIENT_CLASS}
  ip6 saddr ${client.v6} meta priority set ${CLIENT_CLASS}
  ip6 daddr ${client.v6} meta priority set ${CLIENT_CLASS}
 }`,
    );
  } catch (error) {
    await removeQdiscs();
    throw error;
  }
  const t = monotonicMs();
  return {
    t,
    undo: once(async () => {
      await deleteTable(table);
      await removeQdiscs();
      return monotonicMs();
    }),
  };
}
