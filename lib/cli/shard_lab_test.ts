import assert from "node:assert/strict";
import { elements, parseXml } from "../report/testdata/parse_xml.ts";
import { main } from "./main.ts";
import { SUITES_DIR } from "./repo_paths.ts";
import { tempDirWith } from "./testdata/temp_files.ts";

/** The CLI with the real runner and lab, a suites directory of its own; output captured. */
async function cli(args: string[], suitesDir: string) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    suitesDir,
    stdout: (t) => stdout += t,
    stderr: (t) => stderr += t,
    terminal: false,
  });
  return { code, stdout, stderr };
}

Deno.test({
  name:
    "real labs: certify --shard 1/2 and 2/2 of the rst suite, merged, give one run's verdicts and index; JUnit of both parses",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    // The built-in rst suite alone (5 scenarios whose outcome is exact: the server is told by an
    // RST), so the run is short and its verdicts do not depend on timing.
    const suites = await tempDirWith({
      "rst.ts": `export { default } from "${new URL(`file://${SUITES_DIR}/rst.ts`).href}";\n`,
    });
    const root = await Deno.makeTempDir({ prefix: "clientdown-shards-" });
    try {
      const common = ["ref-hardened", "--deadline", "5s"];
      const one = await cli(
        ["certify", ...common, "--out", `${root}/one`, "--junit", `${root}/one.xml`],
        suites,
      );
      assert.equal(one.code, 0, one.stderr);
      for (const k of [1, 2]) {
        const shard = await cli(
          ["certify", ...common, "--shard", `${k}/2`, "--out", `${root}/shard-${k}`],
          suites,
        );
        assert.equal(shard.code, 0, shard.stderr);
      }
      const merged = await cli([
        "merge",
        `${root}/shard-2`,
        `${root}/shard-1`,
        "--out",
        `${root}/merged`,
        "--junit",
        `${root}/merged.xml`,
      ], suites);
      assert.equal(merged.code, 0, merged.stderr);

      const ids = (dir: string) =>
        JSON.parse(Deno.readTextFileSync(`${root}/${dir}/ref-hardened.json`)).scenarios.map((
          s: { id: string },
        ) => s.id);
      // The union of the shards is the full set, each pair once.
      assert.deepEqual([...ids("shard-1"), ...ids("shard-2")].sort(), [...ids("one")].sort());
      assert.equal(ids("one").length, 5);
      // The merged index is the single run's, verdict for verdict (only times differ).
      const index = (dir: string) => {
        const value = JSON.parse(Deno.readTextFileSync(`${root}/${dir}/index.json`));
        return { ...value, targets: value.targets.map((t: object) => ({ ...t, startedAt: "" })) };
      };
      assert.deepEqual(index("merged"), index("one"));
      assert.deepEqual(ids("merged"), ids("one"), "suite order");
      for (const xml of ["one.xml", "merged.xml"]) {
        const doc = parseXml(Deno.readTextFileSync(`${root}/${xml}`));
        assert.equal(elements(doc, "testsuite").length, 1);
        assert.equal(elements(doc, "testcase").length, 5);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(suites, { recursive: true });
    }
  },
});
