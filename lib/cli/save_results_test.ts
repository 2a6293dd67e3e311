import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { run } from "../process/spawn.ts";
import { makeResults } from "../results/testdata/make_results.ts";
import { parseResults } from "./report_files.ts";
import { saveResults } from "./save_results.ts";
import { GOOD_SUITES, tempDirWith } from "./testdata/temp_files.ts";

Deno.test("saveResults: when a file cannot be written, the earlier files stay whole and the run is saved elsewhere, named", async () => {
  const dir = await tempDirWith({ "a.json": "earlier results\n" });
  try {
    // A directory where b.json must go: its rename fails, as a full disk's write would.
    await Deno.mkdir(`${dir}/b.json`);
    const saved = await saveResults([
      makeResults("a", { "rst/idle": "pass" }),
      makeResults("b", { "rst/idle": "fail" }),
    ], {
      dir,
      junit: `${dir}/ci.xml`,
    });
    assert.ok(saved.failure);
    assert.match(
      saved.failure.message,
      /^Could not write "[^"]+\/b\.json": .*; this run's results are saved in "[^"]+" instead$/,
    );
    const elsewhere = saved.failure.savedIn!;
    try {
      assert.deepEqual([...Deno.readDirSync(elsewhere)].map((e) => e.name).sort(), [
        "README.md",
        "a.json",
        "a.md",
        "b.json",
        "b.md",
        "ci.xml",
        "index.json",
      ]);
      const b = Deno.readTextFileSync(`${elsewhere}/b.json`);
      assert.equal(parseResults(b, "b.json").scenarios[0]!.verdict, "fail");
    } finally {
      await Deno.remove(elsewhere, { recursive: true });
    }
    // No temporary file is left behind; a.json was replaced whole.
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith(".")),
      [],
    );
    assert.equal(parseResults(Deno.readTextFileSync(`${dir}/a.json`), "a.json").target.id, "a");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "certify into a read-only mount exits 2 before any lab; on a full disk the earlier results stay intact and the new ones are saved elsewhere (exit 3)",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const suites = await tempDirWith(GOOD_SUITES);
    const root = await Deno.makeTempDir({ prefix: "clientdown-disk-" });
    await Deno.mkdir(`${root}/full`);
    await Deno.mkdir(`${root}/ro`);
    let savedIn: string | null = null;
    try {
      const child = fileURLToPath(new URL("./testdata/full_disk_child.ts", import.meta.url));
      // A private mount namespace: the small tmpfs mounts exist only for the child, and go with it.
      const script = `mount -t tmpfs -o size=256k tmpfs "$2/full" && ` +
        `mount -t tmpfs -o ro,size=64k tmpfs "$2/ro" && ` +
        `exec "${Deno.execPath()}" run --allow-all "${child}" "$1" "$2"`;
      const result = await run([
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        suites,
        root,
      ], { timeoutMs: 120_000 });
      const out = JSON.parse(result.stdout);
      savedIn = out.savedIn;

      assert.equal(out.readOnly.code, 2, out.readOnly.stderr);
      assert.match(
        out.readOnly.stderr,
        /^clientdown: Reports directory ".*\/ro" cannot be written: Read-only file system/,
      );
      assert.equal(out.readOnly.prepared, 0, "no lab for a read-only output");

      assert.equal(out.first.code, 0, out.first.stderr);
      assert.equal(out.second.code, 3, out.second.stderr);
      assert.equal(out.second.prepared, 1);
      // One line says what failed and where the results are.
      assert.match(
        out.second.stderr,
        /^clientdown: Could not write ".*\/full\/ref-naive\.json": No space left on device.*; this run's results are saved in "[^"]+" instead$/m,
      );
      assert.equal(
        out.second.stderr.split("\n").filter((l: string) => l.startsWith("clientdown:")).length,
        1,
      );
      // The earlier results in DIR are intact, byte for byte, and still valid.
      assert.deepEqual(out.after, out.before);
      for (const [name, text] of Object.entries(out.after as Record<string, string>)) {
        if (name.endsWith(".json") && name !== "index.json") parseResults(text, name);
      }
      // The new results (rst/idle failed this time) are where the message says.
      assert.ok(savedIn && !savedIn.startsWith(`${root}/full`));
      const naive = parseResults(out.saved["ref-naive.json"], "ref-naive.json");
      assert.equal(naive.scenarios.find((s) => s.id === "rst/idle")!.verdict, "fail");
      assert.ok(out.saved["clientdown.xml"].includes("<failure"));
      assert.ok(out.saved["README.md"] && out.saved["index.json"]);
    } finally {
      if (savedIn) await Deno.remove(savedIn, { recursive: true }).catch(() => {});
      await Deno.remove(root, { recursive: true });
      await Deno.remove(suites, { recursive: true });
    }
  },
});
