import assert from "node:assert/strict";
import { run } from "./lib/process/spawn.ts";

const mod = new URL("./mod.ts", import.meta.url).pathname;

Deno.test("mod.ts run as a program is the CLI, and exits with its code", async () => {
  const usage = await run([Deno.execPath(), "run", "-A", mod, "frobnicate"], { accept: [2] });
  assert.equal(usage.code, 2);
  assert.equal(usage.stdout, "");
  assert.match(usage.stderr, /^clientdown: Unknown command "frobnicate"/);
  const help = await run([Deno.execPath(), "run", "-A", mod, "certify", "--help"]);
  assert.match(help.stdout, /^Usage: clientdown certify \[TARGET\.\.\.\] \[options\]/);
});
