import assert from "node:assert/strict";
import { SERVER } from "../lab/address_plan.ts";
import { createLab, type Lab } from "../lab/lab.ts";
import { NETLINK_SOCK_DIAG } from "../libc/netlink.ts";
import { connectionLookup, entryOfAnswer } from "./connection_lookup.ts";
import { readSocketTable, type SocketEntry } from "./proc_net_tcp.ts";
import { isConnectionFrom } from "./socket_watch.ts";
import { connectIdleClient, dropAtRouter, startKeepaliveServer } from "./testdata/keepalive_lab.ts";

const PORT = 8080;

/** What both readings must agree on (the timer's remaining time moves between two reads). */
function fields(entry: SocketEntry | undefined) {
  if (!entry) return undefined;
  const { state, txQueue, rxQueue, timer, retransmits, probes, inode } = entry;
  return { state, txQueue, rxQueue, timer, retransmits, probes, inode };
}

/**
 * The lookup and /proc read in between two lookups that agree: what the kernel showed did not
 * change meanwhile (a probe fires once a second here), so the three must match.
 */
async function bothSay(
  lookup: () => SocketEntry | undefined,
  fromProc: () => SocketEntry | undefined,
): Promise<ReturnType<typeof fields>> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const before = fields(lookup());
    const proc = fields(fromProc());
    const after = fields(lookup());
    if (JSON.stringify(before) === JSON.stringify(after)) {
      assert.deepEqual(before, proc);
      return before;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("The connection changed under every reading");
}

async function withConnection(
  listenOn: string,
  connectTo: string,
  body: (
    lab: Lab,
    lookup: () => SocketEntry | undefined,
    fromProc: () => SocketEntry | undefined,
    client: Awaited<ReturnType<typeof connectIdleClient>>,
  ) => Promise<void>,
): Promise<void> {
  const lab = await createLab();
  const children: { end(): Promise<unknown> }[] = [];
  try {
    const server = await startKeepaliveServer(lab.hosts, listenOn, PORT);
    children.push(server);
    const client = await connectIdleClient(lab.hosts, connectTo, PORT);
    children.push(client);
    const socket = lab.netlink("server", NETLINK_SOCK_DIAG);
    const lookup = connectionLookup(socket, { address: connectTo, port: PORT }, client.local);
    const fromProc = () =>
      readSocketTable(server.pid).find((e) => isConnectionFrom(e, client.local, PORT));
    await body(lab, lookup, fromProc, client);
  } finally {
    for (const child of children.reverse()) await child.end();
    await lab.teardown();
  }
}

Deno.test("a sock_diag lookup shows what /proc/net/tcp shows: established, queued, probing, gone", async () => {
  await withConnection(SERVER.v4, SERVER.v4, async (lab, lookup, fromProc, client) => {
    // The fixture accepts in its own time: until then the socket has no inode.
    for (let i = 0; i < 500 && !lookup()?.inode; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const established = await bothSay(lookup, fromProc);
    assert.equal(established?.state, "ESTABLISHED");
    assert.notEqual(established?.inode, 0);
    // The timer's remaining time, in ms from sock_diag and in clock ticks from /proc.
    const [a, b] = [lookup(), fromProc()];
    assert.ok(a && b && Math.abs(a.timerMs - b.timerMs) <= 1000, `${a?.timerMs} / ${b?.timerMs}`);

    await client.send("x"); // the fixture never reads it
    for (let i = 0; i < 200 && lookup()?.rxQueue !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal((await bothSay(lookup, fromProc))?.rxQueue, 1);

    await dropAtRouter(lab.hosts, client.local.address);
    for (let i = 0; i < 600 && !(lookup()?.probes ?? 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const probing = await bothSay(lookup, fromProc);
    assert.equal(probing?.timer, "keepalive");
    assert.ok((probing?.probes ?? 0) >= 1);

    // The fixture's user timeout ends it: the socket leaves the table, and the lookup finds only
    // the listener, which it does not report.
    for (let i = 0; i < 1000 && lookup(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(await bothSay(lookup, fromProc), undefined);
  });
});

Deno.test("a sock_diag lookup finds an IPv6 connection, and an IPv4 one on a dual-stack listener", async () => {
  for (const [listenOn, connectTo] of [[SERVER.v6, SERVER.v6], ["::", SERVER.v4]] as const) {
    await withConnection(listenOn, connectTo, async (_lab, lookup, fromProc) => {
      const row = await bothSay(lookup, fromProc);
      assert.equal(row?.state, "ESTABLISHED", `${listenOn} ← ${connectTo}`);
    });
  }
});

Deno.test("an answer shorter than inet_diag_msg is an error, a listener's is no connection", () => {
  const local = { address: SERVER.v4, port: PORT };
  const peer = { address: "192.0.2.2", port: 40000 };
  assert.throws(() => entryOfAnswer(new Uint8Array(10), local, peer), /sock_diag answer/);
  const listener = new Uint8Array(72);
  listener[1] = 10; // LISTEN
  assert.equal(entryOfAnswer(listener, local, peer), undefined);
});
