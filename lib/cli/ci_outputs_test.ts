import assert from "node:assert/strict";
import { elements, parseXml } from "../report/testdata/parse_xml.ts";
import { main, type MainDeps } from "./main.ts";
import { fakeCertify, GOOD_SUITES, tempDirWith, withoutSweep } from "./testdata/temp_files.ts";

/** main() with temp suites, a fake runner, captured output and a lab preparation that counts. */
async function cli(args: string[], deps: MainDeps = {}) {
  let stdout = "";
  let stderr = "";
  let prepared = 0;
  const fake = fakeCertify((id) => id === "rst/idle" ? "fail" : "pass");
  const code = await main(args, {
    certify: fake.certify,
    prepareLab: () => {
      prepared++;
      return Promise.resolve();
    },
    stdout: (t) => stdout += t,
    stderr: (t) => stderr += t,
    terminal: false,
    ...deps,
  });
  return { code, stdout, stderr: withoutSweep(stderr), prepared, calls: fake.calls };
}

function filesOf(dir: string): Record<string, string> {
  return Object.fromEntries(
    [...Deno.readDirSync(dir)].map((e) => e.name).sort().map((
      name,
    ) => [name, Deno.readTextFileSync(`${dir}/${name}`)]),
  );
}

Deno.test("certify --shard 1/3, 2/3, 3/3 then merge: the same files one machine writes; JUnit of both parses", async () => {
  const root = await tempDirWith({});
  try {
    const suites = await tempDirWith(GOOD_SUITES);
    const deps = { suitesDir: suites };
    const one = await cli(
      ["certify", "--out", `${root}/one`, "--junit", `${root}/one.xml`, "--deadline", "5s"],
      deps,
    );
    assert.equal(one.code, 1, one.stderr);
    const ran: string[] = [];
    for (const k of [1, 2, 3]) {
      const shard = await cli([
        "certify",
        "--out",
        `${root}/shard-${k}`,
        "--shard",
        `${k}/3`,
        "--deadline",
        "5s",
      ], deps);
      assert.ok([0, 1].includes(shard.code), shard.stderr);
      ran.push(...shard.calls.flatMap((c) => c.scenarios.map((s) => `${c.target} ${s}`)));
      // Every shard runs both targets (some of their pairs) and says which shard it is.
      const json = JSON.parse(Deno.readTextFileSync(`${root}/shard-${k}/ref-naive.json`));
      assert.deepEqual(json.environment.shard.index, k);
      assert.deepEqual(json.environment.shard.targets, ["ref-hardened", "ref-naive"]);
    }
    // The union of the shards is exactly the full set, each pair once.
    assert.deepEqual(
      ran.sort(),
      one.calls.flatMap((c) => c.scenarios.map((s) => `${c.target} ${s}`)).sort(),
    );
    assert.equal(ran.length, 10);

    const merged = await cli([
      "merge",
      `${root}/shard-3`,
      `${root}/shard-1`,
      `${root}/shard-2`,
      "--out",
      `${root}/merged`,
      "--junit",
      `${root}/merged.xml`,
    ]);
    assert.equal(merged.code, 1, merged.stderr);
    assert.equal(merged.prepared, 0, "merge makes no lab");
    assert.match(
      merged.stdout,
      /^Wrote .*merged\/ref-hardened\.json, .*merged\/index\.json, .*merged\.xml\n$/,
    );
    // Results, Markdown, README.md and index.json: byte for byte what one machine wrote.
    assert.deepEqual(filesOf(`${root}/merged`), filesOf(`${root}/one`));
    const index = JSON.parse(Deno.readTextFileSync(`${root}/merged/index.json`));
    assert.equal(index.matrix["rst/idle"]["ref-naive"], "fail");
    assert.equal(index.targets[0].counts.fail, 1);

    for (const xml of ["one.xml", "merged.xml"]) {
      const doc = parseXml(Deno.readTextFileSync(`${root}/${xml}`));
      const suitesXml = elements(doc, "testsuite");
      assert.deepEqual(suitesXml.map((s) => s.attributes.name).sort(), [
        "ref-hardened 0.1.0",
        "ref-naive 0.1.0",
      ]);
      for (const s of suitesXml) assert.equal(elements(s, "testcase").length, 5);
      assert.equal(elements(doc, "failure").length, 2);
    }

    // Shards missing or from another run are refused, naming what is wrong; nothing written.
    const missing = await cli([
      "merge",
      `${root}/shard-1`,
      `${root}/shard-3`,
      "--out",
      `${root}/m2`,
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^clientdown: Missing 3 of 10 pairs \(shard 2\/3 not given\): /);
    assert.throws(() => Deno.statSync(`${root}/m2`));
    const other = await cli([
      "certify",
      "--out",
      `${root}/slow-2`,
      "--shard",
      "2/3",
      "--deadline",
      "9s",
    ], deps);
    assert.ok([0, 1].includes(other.code));
    const mixed = await cli([
      "merge",
      `${root}/shard-1`,
      `${root}/slow-2`,
      `${root}/shard-3`,
      "--out",
      `${root}/m3`,
    ]);
    assert.equal(mixed.code, 2);
    assert.match(
      mixed.stderr,
      /^clientdown: Shards differ in deadline \(ms\): 5000 in ".*", 9000 in ".*slow-2\/ref-hardened\.json"\n$/,
    );
    const twice = await cli(["merge", `${root}/one`, `${root}/shard-1`, "--out", `${root}/m4`]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /^clientdown: Pairs given twice: ref-hardened × /);
    await Deno.remove(suites, { recursive: true });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("diff: a verdict that got worse is printed and exits 1; unchanged or better exits 0; bad input exits 2", async () => {
  const root = await tempDirWith({});
  try {
    const suites = await tempDirWith(GOOD_SUITES);
    const run = async (out: string, verdict: "pass" | "warn") =>
      await cli(["certify", "ref-hardened", "--out", `${root}/${out}`], {
        suitesDir: suites,
        certify: fakeCertify((id) => id === "vanish/mid-request" ? verdict : "pass").certify,
      });
    await run("old", "pass");
    await run("new", "warn");
    const worse = await cli([
      "diff",
      `${root}/old/ref-hardened.json`,
      `${root}/new/ref-hardened.json`,
    ]);
    assert.equal(worse.code, 1, worse.stderr);
    assert.equal(
      worse.stdout,
      "worse   ref-hardened vanish/mid-request: pass → warn (worse)\n" +
        "1 verdict changed, 1 worse, over 5 scenarios compared\n",
    );
    const better = await cli(["diff", `${root}/new`, `${root}/old`]);
    assert.equal(better.code, 0);
    assert.match(better.stdout, /^changed ref-hardened vanish\/mid-request: warn → pass$/m);
    const same = await cli(["diff", `${root}/old`, `${root}/old`]);
    assert.equal(same.code, 0);
    assert.equal(same.stdout, "No changes over 5 scenarios compared\n");

    Deno.writeTextFileSync(`${root}/bad.json`, `{"schema": "clientdown/results@2"}`);
    const bad = await cli(["diff", `${root}/old`, `${root}/bad.json`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^clientdown: Results file ".*bad\.json": /);
    const nosuch = await cli(["diff", `${root}/old`, `${root}/nosuch`]);
    assert.equal(nosuch.code, 2);
    assert.match(nosuch.stderr, /^clientdown: NEW ".*nosuch" does not exist\n$/);
    const naive = await cli(["certify", "ref-naive", "--out", `${root}/naive`], {
      suitesDir: suites,
      certify: fakeCertify().certify,
    });
    assert.equal(naive.code, 0, naive.stderr);
    const disjoint = await cli(["diff", `${root}/old`, `${root}/naive`]);
    assert.equal(disjoint.code, 2);
    assert.equal(
      disjoint.stderr,
      "clientdown: OLD and NEW share no scenario of a target: nothing to compare (OLD has " +
        "ref-hardened; NEW has ref-naive)\n",
    );
    const one = await cli(["diff", `${root}/old`]);
    assert.equal(one.code, 2);
    assert.match(
      one.stderr,
      /Expected OLD and NEW \(results files or directories\), got 1 arguments/,
    );
    await Deno.remove(suites, { recursive: true });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("outputs that cannot be written and bad --shard exit 2 before any lab", async () => {
  const suites = await tempDirWith(GOOD_SUITES);
  try {
    const mistakes: [string[], RegExp][] = [
      [["certify", "--shard", "4/3"], /Invalid --shard "4\/3": expected K\/N with 1 ≤ K ≤ N/],
      [["certify", "--shard", "x"], /Invalid --shard "x"/],
      [
        ["certify", "--out", `${suites}/out`, "--junit", "/proc/clientdown/x.xml"],
        /JUnit file "\/proc\/clientdown\/x\.xml" cannot be written: /,
      ],
      [
        ["certify", "--out", `${suites}/out`, "--junit", suites],
        /JUnit file ".*" cannot be written: it is a directory/,
      ],
      [
        ["suite", "rst", "--target", "ref-naive", "--junit", "/proc/clientdown/x.xml"],
        /JUnit file "\/proc\/clientdown\/x\.xml" cannot be written/,
      ],
      [
        ["certify", "--out", "/proc/clientdown"],
        /Reports directory "\/proc\/clientdown" cannot be written/,
      ],
      [["merge", suites], /Missing --out DIR/],
      [["merge", "--out", suites], /Expected one or more shard directories/],
    ];
    for (const [args, message] of mistakes) {
      const result = await cli(args, { suitesDir: suites });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.prepared, 0);
      assert.equal(result.calls.length, 0);
    }
  } finally {
    await Deno.remove(suites, { recursive: true });
  }
});

Deno.test("suite --junit writes JUnit XML; with --json, stdout stays the results alone", async () => {
  const suites = await tempDirWith(GOOD_SUITES);
  try {
    const xml = `${suites}/out/suite.xml`;
    const result = await cli(
      ["suite", "vanish", "--target", "ref-naive", "--json", "--junit", xml],
      {
        suitesDir: suites,
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).scenarios.length, 3);
    assert.match(result.stderr, /Wrote .*suite\.xml/);
    const doc = parseXml(Deno.readTextFileSync(xml));
    assert.deepEqual(
      elements(doc, "testcase").map((c) => [c.attributes.classname, c.attributes.name]),
      [["vanish", "vanish/idle"], ["vanish", "vanish/mid-request"], [
        "vanish",
        "vanish/mid-response",
      ]],
    );
  } finally {
    await Deno.remove(suites, { recursive: true });
  }
});

Deno.test("report: when a Markdown file cannot be written, one line and exit 3; the results stay", async () => {
  const suites = await tempDirWith(GOOD_SUITES);
  try {
    const out = `${suites}/out`;
    assert.equal(
      (await cli(["certify", "ref-naive", "--out", out], { suitesDir: suites })).code,
      1,
    );
    const json = Deno.readTextFileSync(`${out}/ref-naive.json`);
    // A directory where the Markdown must go: renaming onto it fails, as a full disk would.
    await Deno.remove(`${out}/ref-naive.md`);
    await Deno.mkdir(`${out}/ref-naive.md`);
    const report = await cli(["report", "--out", out]);
    assert.equal(report.code, 3);
    assert.match(
      report.stderr,
      /^clientdown: Could not write the reports in ".*\/out": .*; the results files there are untouched\n$/,
    );
    assert.equal(Deno.readTextFileSync(`${out}/ref-naive.json`), json);
  } finally {
    await Deno.remove(suites, { recursive: true });
  }
});
