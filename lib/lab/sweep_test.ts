import assert from "node:assert/strict";
import { run, spawn } from "../process/spawn.ts";
import { runIdOf } from "./names.ts";
import { sweepStaleLabs } from "./sweep.ts";
import { labDir } from "./state_dir.ts";

const holder = new URL("./testdata/hold_lab.ts", import.meta.url).pathname;

interface Held {
  run: string;
  hosts: Record<string, string>;
  sleeper: number;
  dir: string;
}

/** Starts a process that holds a lab (state in `state`); resolves once the lab is up. */
async function holdLab(state: string) {
  const owner = spawn([Deno.execPath(), "run", "-A", holder], {
    stdout: "piped",
    env: { CLIENTDOWN_STATE: state },
  });
  const reader = owner.process.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  await owner.process.stdout.cancel();
  const held: Held = JSON.parse(new TextDecoder().decode(value));
  return { owner, held };
}

async function namespaces(): Promise<string> {
  return (await run(["ip", "netns", "list"])).stdout;
}

/** Runs `fn` with CLIENTDOWN_STATE set to `state`, as another command would. */
async function withState<T>(state: string, fn: () => T | Promise<T>): Promise<T> {
  const before = Deno.env.get("CLIENTDOWN_STATE");
  Deno.env.set("CLIENTDOWN_STATE", state);
  try {
    return await fn();
  } finally {
    if (before === undefined) Deno.env.delete("CLIENTDOWN_STATE");
    else Deno.env.set("CLIENTDOWN_STATE", before);
  }
}

Deno.test("a lab whose owner was killed with SIGKILL is swept, with the processes inside it", async () => {
  const state = await Deno.makeTempDir({ prefix: "clientdown-sweep-" });
  try {
    const { owner, held } = await holdLab(state);
    owner.signal("SIGKILL");
    assert.equal((await owner.status).signal, "SIGKILL");

    // The owner's lab outlives it until a sweep: that is what the sweep is for. A sweep with
    // another state directory still knows the run is dead, from its name. (Another command on
    // this host may sweep it first: either way it must be gone.)
    const swept = await sweepStaleLabs();
    const before = swept.namespaces.filter((n) => Object.values(held.hosts).includes(n));
    assert(before.length === 0 || before.length === 3, `all or nothing: ${before}`);
    const after = await namespaces();
    for (const name of Object.values(held.hosts)) {
      assert(!after.includes(name), `"${name}" removed`);
    }
    // The sleeper got SIGKILL from the sweep; give the kernel a moment to reap it (bounded: 2 s).
    for (let i = 0; i < 200 && exists(`/proc/${held.sleeper}`); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert(!exists(`/proc/${held.sleeper}`), "the process inside the lab was ended");
    // Its directory is in a state directory that sweep did not use: the next sweep there takes it.
    assert(exists(held.dir));
    const there = await withState(state, sweepStaleLabs);
    assert(there.runs.includes(held.run));
    assert(!exists(held.dir), "the orphan lab directory was removed");
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});

Deno.test("a sweep with another state directory leaves a live run's lab alone", async () => {
  const [mine, other] = await Promise.all([
    Deno.makeTempDir({ prefix: "clientdown-live-" }),
    Deno.makeTempDir({ prefix: "clientdown-other-" }),
  ]);
  const { owner, held } = await holdLab(mine);
  try {
    for (const state of [other, mine]) {
      const swept = await withState(state, sweepStaleLabs);
      assert(!swept.runs.includes(held.run), `swept with "${state}"`);
    }
    const listed = await namespaces();
    for (const name of Object.values(held.hosts)) assert(listed.includes(name), `"${name}" kept`);
    assert(exists(held.dir) && exists(`/proc/${held.sleeper}`));
  } finally {
    owner.signal("SIGKILL");
    await owner.status;
    await withState(mine, sweepStaleLabs);
    await Promise.all([mine, other].map((d) => Deno.remove(d, { recursive: true })));
  }
  assert(!(await namespaces()).includes(held.hosts.server ?? "?"));
});

Deno.test("a dead run's lab directory with no namespace left is swept", async () => {
  const state = await Deno.makeTempDir({ prefix: "clientdown-orphan-" });
  try {
    const gone = spawn(["sleep", "0.2"]);
    const run = runIdOf(gone.pid);
    await gone.status;
    assert(run);
    const dir = await withState(state, async () => {
      const dir = labDir(run, 3);
      await Deno.mkdir(`${dir}/www`, { recursive: true });
      const swept = await sweepStaleLabs();
      assert(swept.runs.includes(run));
      return dir;
    });
    assert(!exists(dir));
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
