import assert from "node:assert/strict";
import { startServer, tryConnect } from "../faults/testdata/fixture.ts";
import {
  attr,
  be32,
  concat,
  message,
  NETLINK_NETFILTER,
  NetlinkError,
  NetlinkSocket,
  NLM_F_ACK,
  NLM_F_REQUEST,
} from "../libc/netlink.ts";
import { cString } from "../libc/libc.ts";
import { run } from "../process/spawn.ts";
import { BYSTANDER, CLIENT, SERVER } from "./address_plan.ts";
import { createLab, type Lab } from "./lab.ts";
import { netnsName, runId } from "./names.ts";
import { addNetns, deleteNetns } from "../libc/netns.ts";

const PORT = 7011;
const FLIPS = 1000;

/**
 * The runner's open sockets but unix ones (the runtime opens and closes those on its own):
 * netlink sockets included, whichever namespace they belong to.
 */
function ownSockets(): number {
  const unix = Deno.readTextFileSync("/proc/self/net/unix");
  return [...Deno.readDirSync("/proc/self/fd")].filter((fd) => {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/self/fd/${fd.name}`))?.[1];
      return inode !== undefined && !unix.includes(` ${inode} `) && !unix.includes(` ${inode}\n`);
    } catch {
      return false;
    }
  }).length;
}

/** The table as nft lists it in the router: its flags and rule counters. */
async function listed(lab: Lab, table: string): Promise<string> {
  return (await run(["nft", "list", "table", "inet", table], { netns: lab.hosts.router })).stdout;
}

const packetsCounted = (text: string) =>
  [...text.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);

Deno.test("a fault table switched by netlink drops the client when awake, passes it asleep, survives many switches, and its socket goes with the lab", async () => {
  const socketsBefore = ownSockets();
  const lab = await createLab();
  const server = await startServer(lab, PORT);
  try {
    // Loaded at build, every one dormant: the client connects.
    for (const table of ["cd_vanish", "cd_after_syn", "cd_icmp_host_unreachable"]) {
      assert.match(await listed(lab, table), /flags dormant/, table);
    }
    assert.equal(await tryConnect(lab, CLIENT.v4, SERVER.v4, PORT, 3000), "connected");

    // Each switch is one system call that has committed when it returns.
    const callMs: number[] = [];
    for (let i = 0; i < FLIPS; i++) {
      const woken = lab.faultTables.wake("cd_vanish");
      callMs.push(woken.doneAt - woken.sentAt);
      lab.faultTables.sleep("cd_vanish");
    }
    assert.match(await listed(lab, "cd_vanish"), /flags dormant/);
    callMs.sort((a, b) => a - b);
    // A figure for the note, not an assertion: a busy machine may preempt any call.
    console.log(
      `${FLIPS} wakes: p50 ${callMs[FLIPS / 2]?.toFixed(3)} ms, p99 ${
        callMs[FLIPS * 0.99]?.toFixed(3)
      } ms, max ${callMs.at(-1)?.toFixed(3)} ms`,
    );

    lab.faultTables.wake("cd_vanish");
    assert.doesNotMatch(await listed(lab, "cd_vanish"), /flags dormant/);
    assert.throws(() => lab.faultTables.wake("cd_vanish"), /already active/);
    // Awake, the client's SYNs die at the router (its counters say so); the bystander passes.
    assert.equal(await tryConnect(lab, CLIENT.v4, SERVER.v4, PORT, 1000), "timeout");
    assert.equal(await tryConnect(lab, BYSTANDER.v4, SERVER.v4, PORT, 3000), "connected");
    assert.ok(packetsCounted(await listed(lab, "cd_vanish")) > 0, "the drop rules counted packets");

    lab.faultTables.sleep("cd_vanish");
    assert.equal(lab.faultTables.sleep("cd_vanish"), undefined, "asleep already: left alone");
    assert.equal(await tryConnect(lab, CLIENT.v4, SERVER.v4, PORT, 3000), "connected");
  } finally {
    await server.stop();
    await lab.teardown();
  }
  assert.equal(ownSockets(), socketsBefore, "the lab's netlink socket is closed at teardown");
});

Deno.test("a request the kernel refuses is a NetlinkError with its errno; the socket still serves", async () => {
  const lab = await createLab();
  const socket = new NetlinkSocket(lab.hosts.router, NETLINK_NETFILTER);
  try {
    // A table update with a flag nf_tables does not know: EOPNOTSUPP.
    const nfgen = (family: number, resId = 0) => new Uint8Array([family, 0, resId >> 8, resId]);
    const request = (flags: number) => {
      const seq = socket.nextSeq();
      const table = concat([nfgen(1), attr(1, cString("cd_vanish")), attr(2, be32(flags))]);
      return {
        seq,
        bytes: concat([
          message(0x10, NLM_F_REQUEST, seq, nfgen(0, 10)),
          message(10 << 8, NLM_F_REQUEST | NLM_F_ACK, seq, table),
          message(0x11, NLM_F_REQUEST, seq, nfgen(0, 10)),
        ]),
      };
    };
    const bad = request(0x80);
    assert.throws(
      () => socket.request("bad flags", bad.bytes, bad.seq),
      (error) => error instanceof NetlinkError && /EOPNOTSUPP/.test(error.message),
    );
    const good = request(1); // dormant, as it is
    const done = socket.request("dormant", good.bytes, good.seq);
    assert.ok(done.doneAt >= done.sentAt);
  } finally {
    socket.close();
    await lab.teardown();
  }
});

/** What each fault table is, written as nft reads it: the oracle of the netlink encoding. */
function referenceScript(): string {
  const { v4, v6 } = CLIENT;
  const chain = (rules: string[]) =>
    ` flags dormant\n chain forward {\n  type filter hook forward priority filter - 10; policy accept;\n${
      rules.map((r) => `  ${r}\n`).join("")
    } }`;
  const icmp = (kind: string) =>
    chain([
      `ip daddr ${v4} counter reject with icmpx ${kind}`,
      `ip6 daddr ${v6} counter reject with icmpx ${kind}`,
      `ip saddr ${v4} counter drop`,
      `ip6 saddr ${v6} counter drop`,
    ]);
  const tables: Record<string, string> = {
    cd_vanish: chain([
      `ip saddr ${v4} counter drop`,
      `ip daddr ${v4} counter drop`,
      `ip6 saddr ${v6} counter drop`,
      `ip6 daddr ${v6} counter drop`,
    ]),
    cd_after_syn: chain([
      `ip saddr ${v4} tcp flags & (syn | ack) != syn counter drop`,
      `ip6 saddr ${v6} tcp flags & (syn | ack) != syn counter drop`,
    ]),
    cd_icmp_host_unreachable: icmp("host-unreachable"),
    cd_icmp_admin_prohibited: icmp("admin-prohibited"),
  };
  return Object.entries(tables).map(([name, body]) => `table inet ${name} {\n${body}\n}\n`)
    .join("");
}

Deno.test("nft lists the fault tables the lab loads by netlink exactly as it lists those it makes from their text", async () => {
  const lab = await createLab();
  const scratch = netnsName(runId(), 999, "prb");
  addNetns(scratch);
  try {
    await run(["nft", "-f", "-"], { netns: scratch, input: referenceScript() });
    const listing = async (netns: string) =>
      (await run(["nft", "list", "ruleset"], { netns })).stdout;
    const expected = await listing(scratch);
    assert.match(expected, /cd_icmp_admin_prohibited/);
    assert.equal(await listing(lab.hosts.router), expected);
  } finally {
    deleteNetns([scratch]);
    await lab.teardown();
  }
});
