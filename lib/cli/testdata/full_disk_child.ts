/**
 * Run by save_results_test.ts inside a private mount namespace (`unshare --mount`), where
 * `<root>/full` is a small tmpfs and `<root>/ro` a read-only one: certifies (with a fake
 * runner) into both, fills the disk between two runs, and prints what happened as JSON.
 *
 * @module
 */

import { main } from "../main.ts";
import { fakeCertify } from "./temp_files.ts";

const [suites, root] = Deno.args as [string, string];

async function run(out: string, failing: boolean) {
  let stdout = "";
  let stderr = "";
  let prepared = 0;
  const code = await main(["certify", "--out", out, "--junit", `${out}/clientdown.xml`], {
    suitesDir: suites,
    certify: fakeCertify((id) => failing && id === "rst/idle" ? "fail" : "pass").certify,
    prepareLab: () => {
      prepared++;
      return Promise.resolve();
    },
    stdout: (t) => stdout += t,
    stderr: (t) => stderr += t,
    terminal: false,
  });
  return { code, stdout, stderr, prepared };
}

function files(dir: string): Record<string, string> {
  return Object.fromEntries(
    [...Deno.readDirSync(dir)].filter((e) => e.isFile && !e.name.startsWith("filler")).map((
      e,
    ) => [e.name, Deno.readTextFileSync(`${dir}/${e.name}`)]),
  );
}

const readOnly = await run(`${root}/ro`, false);
const first = await run(`${root}/full`, false);
const before = files(`${root}/full`);
// Fill the file system: page by page, then byte by byte, until it refuses.
using filler = Deno.openSync(`${root}/full/filler`, { write: true, create: true });
for (const size of [4096, 1]) {
  try {
    for (;;) filler.writeSync(new Uint8Array(size));
  } catch (error) {
    if (!(error instanceof Error) || !/No space left/.test(error.message)) throw error;
  }
}
const second = await run(`${root}/full`, true);
const after = files(`${root}/full`);
const savedIn = /saved in "([^"]+)" instead/.exec(second.stderr)?.[1] ?? null;
console.log(JSON.stringify({
  readOnly,
  first,
  second,
  before,
  after,
  savedIn,
  saved: savedIn ? files(savedIn) : {},
}));
