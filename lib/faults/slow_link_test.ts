import assert from "node:assert/strict";
import { BYSTANDER } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { run } from "../process/spawn.ts";
import { slowLink } from "./slow_link.ts";
import { delayLink, lossyLink } from "./netem_link.ts";
import { connectClient, type Fixture, startServer } from "./testdata/fixture.ts";
import { FaultUnsupported } from "./unsupported.ts";

const PORT = 7006;

const delivered = new Map<Fixture, number>();

/** Milliseconds for the server to push `bytes` to a client, measured at the client. */
async function download(
  server: Fixture,
  conn: { client: Fixture; id: number },
  bytes: number,
): Promise<number> {
  const total = (delivered.get(conn.client) ?? 0) + bytes;
  delivered.set(conn.client, total);
  const start = performance.now();
  await conn.client.command(`await ${total}`);
  await server.command(`send ${conn.id} ${bytes}`);
  await conn.client.waitFor(
    (e) => e.event === "received" && (e.total as number) >= total,
    `${bytes} bytes at the client`,
    10_000,
  );
  return performance.now() - start;
}

/** Milliseconds for the client to push `bytes` to the server, measured at the server. */
async function upload(server: Fixture, conn: { client: Fixture; id: number }, bytes: number) {
  const start = performance.now();
  await conn.client.command(`send ${bytes}`);
  await server.waitFor(
    (e) => e.event === "data" && e.id === conn.id && (e.total as number) >= bytes,
    `${bytes} bytes at the server`,
    10_000,
  );
  return performance.now() - start;
}

Deno.test("slowLink limits the client's traffic only, and is removed", async () => {
  const lab = await createLab();
  const server = await startServer(lab, PORT);
  const victim = await connectClient(lab, server, PORT);
  const bystander = await connectClient(lab, server, PORT, { local: BYSTANDER.v4 });
  try {
    const slow = await slowLink(lab, { rateKbit: 200 });
    assert.ok(!(slow instanceof FaultUnsupported), String(slow));
    // 50 kB at 200 kbit/s (25 kB/s) take 2 s; the bound leaves 40 % for tbf's burst and
    // measurement. The bystander's and the healed link's 50 kB take milliseconds.
    const [slowMs, bystanderMs] = await Promise.all([
      download(server, victim, 50_000),
      download(server, bystander, 50_000),
    ]);
    console.log(`slow: ${slowMs.toFixed(0)} ms, bystander: ${bystanderMs.toFixed(0)} ms`);
    assert.ok(slowMs > 1200, `slow link took ${slowMs} ms`);
    assert.ok(bystanderMs < 1000, `bystander took ${bystanderMs} ms`);
    // The other way too: 25 kB take 1 s; the same 40 % margin.
    const uploadMs = await upload(server, victim, 25_000);
    console.log(`slow upload: ${uploadMs.toFixed(0)} ms`);
    assert.ok(uploadMs > 600, `slow upload took ${uploadMs} ms`);
    const classes = await run(["tc", "-s", "class", "show", "dev", "r0"], {
      netns: lab.hosts.router,
    });
    assert.match(classes.stdout, /class htb 1:10 .*leaf 10:/);
    const leaf = await run(["tc", "qdisc", "show", "dev", "r1"], { netns: lab.hosts.router });
    assert.match(leaf.stdout, /qdisc tbf 10: parent 1:10 rate 200Kbit/);

    await slow.undo();
    const qdiscs = await run(["tc", "qdisc", "show"], { netns: lab.hosts.router });
    assert.doesNotMatch(qdiscs.stdout, /htb/);
    const healedMs = await download(server, victim, 50_000);
    assert.ok(healedMs < 1000, `healed link took ${healedMs} ms`);
  } finally {
    await victim.client.stop();
    await bystander.client.stop();
    await server.stop();
    await lab.teardown();
  }
});

Deno.test("delayLink and lossyLink report netem unsupported with the kernel's reason", async () => {
  const lab = await createLab();
  try {
    for (
      const fault of [
        await delayLink(lab, { delayMs: 100 }),
        await lossyLink(lab, { lossPercent: 5 }),
      ]
    ) {
      assert.ok(fault instanceof FaultUnsupported);
      assert.match(fault.reason, /^netem: .*Specified qdisc kind is unknown/);
    }
    // Nothing was left half-built in the router.
    const qdiscs = await run(["tc", "qdisc", "show"], { netns: lab.hosts.router });
    assert.doesNotMatch(qdiscs.stdout, /htb|netem/);
  } finally {
    await lab.teardown();
  }
});
