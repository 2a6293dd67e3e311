import assert from "node:assert/strict";
import {
  ancestors,
  hangupIgnored,
  Interrupt,
  InterruptedBeforeRun,
  SIGNAL_EXIT,
  whileHoldingSignals,
} from "./interrupt.ts";

Deno.test("an interrupt aborts the run's signal once, with the signal's name and exit code", () => {
  const lines: string[] = [];
  const interrupt = new Interrupt({ log: (l) => lines.push(l), watchParents: false });
  assert.equal(interrupt.received, undefined);
  assert.equal(interrupt.signal.aborted, false);
  interrupt.trigger("SIGTERM");
  interrupt.trigger("SIGINT"); // an echo of the same interrupt (npx passes SIGINT on): silent
  assert.equal(interrupt.received, "SIGTERM");
  assert.equal(interrupt.signal.reason, "SIGTERM");
  assert.equal(interrupt.exitCode, 143);
  assert.deepEqual(lines, [
    "Interrupted by SIGTERM: no new scenario starts; the running ones stop and their labs are removed",
  ]);
  assert.deepEqual(SIGNAL_EXIT, { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 });
});

Deno.test("a second Ctrl-C while cleaning up says so", async () => {
  const lines: string[] = [];
  const interrupt = new Interrupt({ log: (l) => lines.push(l), watchParents: false });
  interrupt.trigger("SIGINT");
  await new Promise((r) => setTimeout(r, 350));
  interrupt.trigger("SIGINT");
  assert.equal(lines.length, 2);
  assert.match(lines[1] ?? "", /^Still cleaning up after SIGINT: /);
  assert.equal(interrupt.exitCode, 130);
});

Deno.test("the end of a parent process is a hang-up; nohup turns the watch off", async () => {
  const here = new URL("./interrupt.ts", import.meta.url).href;
  const chain = ancestors();
  // Nearest first; none when this test runs as its session's leader.
  if (chain.length) assert.equal(chain[0]?.pid, Deno.ppid);
  assert.equal(hangupIgnored(), false);
  // A child whose parent (sh) ends while it runs: its Interrupt notices within a poll or two.
  const child = `
    import { Interrupt } from "${new URL("./interrupt.ts", import.meta.url).href}";
    const interrupt = new Interrupt({ log: (l) => console.log(l), pollMs: 50 }).install();
    console.log("ready");
    await new Promise((r) => interrupt.signal.addEventListener("abort", r));
    interrupt.dispose();
    console.log("exit", interrupt.exitCode);
  `;
  // sh ends once the test has seen "ready" (the watch installed) and says so on sh's stdin.
  const sh = new Deno.Command("sh", {
    args: ["-c", `"$0" eval "$1" </dev/null & read _; exit 0`, Deno.execPath(), child],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  let out = "";
  for await (const text of sh.stdout.pipeThrough(new TextDecoderStream())) {
    if (!out.includes("ready\n") && (out + text).includes("ready\n")) await sh.stdin.close();
    out += text;
  }
  await sh.status;
  // The output ends when the orphan, having noticed, exits.
  assert.match(
    out,
    /^ready\nInterrupted by parent process "sh" \("\d+"\) ended \(as SIGHUP\): .*\nexit 129\n$/,
  );
  const nohup = new Deno.Command("nohup", {
    args: [
      Deno.execPath(),
      "eval",
      `import { hangupIgnored } from "${
        new URL("./interrupt.ts", import.meta.url).href
      }"; console.log(hangupIgnored())`,
    ],
    stdout: "piped",
    stderr: "null",
  });
  assert.equal(new TextDecoder().decode((await nohup.output()).stdout).trim(), "true");
  // In a session of its own (setsid), a run has no ancestor to watch.
  const setsid = new Deno.Command("setsid", {
    args: [
      Deno.execPath(),
      "eval",
      `import { ancestors } from "${here}"; console.log(ancestors().length)`,
    ],
    stdout: "piped",
  });
  assert.equal(new TextDecoder().decode((await setsid.output()).stdout).trim(), "0");
});

Deno.test("whileHoldingSignals lets its work finish (its lab removed), then throws with the signal's exit code", async () => {
  const lines: string[] = [];
  let finished = false;
  await assert.rejects(
    whileHoldingSignals((l) => lines.push(l), async (interrupt) => {
      interrupt.trigger("SIGINT");
      await Promise.resolve();
      finished = true;
    }),
    (error) =>
      error instanceof InterruptedBeforeRun && error.exitCode === 130 &&
      error.message === "Interrupted by SIGINT: its lab was removed; nothing of it is left",
  );
  assert.ok(finished, "the work ran to its end");
  assert.deepEqual(lines, ["Interrupted by SIGINT: its lab is removed first"]);
  assert.equal(await whileHoldingSignals(() => {}, () => Promise.resolve(7)), 7);
});
