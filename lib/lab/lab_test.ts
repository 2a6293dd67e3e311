import assert from "node:assert/strict";
import { run, spawn } from "../process/spawn.ts";
import { readSocketTable, socketFds } from "../observe/proc_net_tcp.ts";
import { CLIENT, SERVER } from "./address_plan.ts";
import { activeLabs, createLab, tearDownAll } from "./lab.ts";
import { parseNetnsName, runId } from "./names.ts";
import { runAlive } from "./owner.ts";

const pair = new URL("./testdata/tcp_pair.ts", import.meta.url).pathname;

async function namespaces(): Promise<string[]> {
  return (await run(["ip", "netns", "list"])).stdout.split("\n").map((l) => l.split(" ")[0] ?? "");
}

for (const family of ["v4", "v6"] as const) {
  Deno.test(`lab carries TCP from the client host through the router to the server host (${family})`, async () => {
    const lab = await createLab();
    try {
      const server = spawn([Deno.execPath(), "run", "-A", pair, "listen", SERVER[family], "7000"], {
        netns: lab.hosts.server,
      });
      // The listener needs a moment to start; poll its socket table (bounded: 10 s). Its own
      // fd must hold the socket: until `nsenter` has switched, /proc/<pid>/net is the host's.
      const listening = () =>
        readSocketTable(server.pid).some((s) =>
          s.state === "LISTEN" && s.local.port === 7000 && socketFds(server.pid).has(s.inode)
        );
      for (let i = 0; i < 1000 && !listening(); i++) await new Promise((r) => setTimeout(r, 10));
      const out = await run(
        [Deno.execPath(), "run", "-A", pair, "connect", SERVER[family], "7000"],
        {
          netns: lab.hosts.client,
        },
      );
      // The server sees the client's own address: the bystander's is never the default source.
      assert.equal(out.stdout.trim(), CLIENT[family]);
      assert.equal((await server.status).code, 0);
      const route = await run(["ip", "route", "get", SERVER[family], "from", CLIENT[family]], {
        netns: lab.hosts.client,
      });
      assert.match(route.stdout, /via (192\.0\.2\.1|2001:db8:c::1)/);
    } finally {
      await lab.teardown();
    }
  });
}

Deno.test("lab names are unique, owned by this process, and gone after teardown", async () => {
  const [a, b] = await Promise.all([createLab(), createLab()]);
  assert(a && b);
  try {
    assert.notEqual(a.hosts.client, b.hosts.client);
    for (const name of [...Object.values(a.hosts), ...Object.values(b.hosts)]) {
      assert(parseNetnsName(name), `"${name}" follows the naming scheme`);
      assert((await namespaces()).includes(name));
    }
    assert(runAlive(a.run));
    // The root namespace gets no interface of the lab.
    const links = (await run(["ip", "-o", "link"])).stdout;
    assert.doesNotMatch(links, /^\d+: (c0|r0|r1|s0)[@:]/m);
  } finally {
    await Promise.all([a.teardown(), b.teardown()]);
  }
  const left = await namespaces();
  for (const name of [...Object.values(a.hosts), ...Object.values(b.hosts)]) {
    assert(!left.includes(name), `"${name}" removed`);
  }
});

Deno.test("teardown during a build waits for it, then leaves nothing of the lab", async () => {
  const creating = createLab();
  // The lab is known from the moment it is named, before its namespaces exist.
  const lab = activeLabs().at(-1);
  assert(lab);
  await lab.teardown();
  const made = await creating; // the build finished before the teardown removed it
  assert.equal(made, lab);
  const left = await namespaces();
  for (const name of Object.values(lab.hosts)) assert(!left.includes(name), `"${name}" removed`);
  assert.throws(() => Deno.statSync(lab.dir), Deno.errors.NotFound);
  assert(!activeLabs().includes(lab));
});

Deno.test("tearDownAll removes every lab of the run, those being built too, and its base", async () => {
  const creating = [createLab(), createLab()];
  const labs = activeLabs();
  await tearDownAll();
  await Promise.allSettled(creating);
  assert.equal(activeLabs().length, 0);
  const own = (await namespaces()).filter((n) => parseNetnsName(n)?.run === runId());
  assert.deepEqual(own, [], "no namespace of this run, base included");
  for (const lab of labs) assert.throws(() => Deno.statSync(lab.dir), Deno.errors.NotFound);
});
