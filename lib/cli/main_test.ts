import assert from "node:assert/strict";
import { run } from "../process/spawn.ts";
import { parseNetnsName, runOwner } from "../lab/names.ts";
import { main, type MainDeps } from "./main.ts";
import { REPO_ROOT } from "./repo_paths.ts";
import { TargetStartError } from "../target/start_target.ts";
import {
  fakeCertify,
  GOOD_SUITES,
  scenarioSource,
  suiteSource,
  targetSource,
  tempDirWith,
  withoutSweep,
} from "./testdata/temp_files.ts";

/** main() with temp suites, a fake runner, captured output and a lab preparation that counts. */
async function cli(args: string[], deps: MainDeps = {}) {
  let stdout = "";
  let stderr = "";
  let prepared = 0;
  const fake = fakeCertify();
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

async function withDir<T>(
  files: Record<string, string>,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await tempDirWith(files);
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Namespaces of labs this test process made (its run id names its pid). */
async function ownNamespaces(): Promise<string[]> {
  const listed = (await run(["ip", "netns", "list"])).stdout.split("\n").map((l) =>
    l.split(" ")[0] ?? ""
  );
  return listed.filter((name) => runOwner(parseNetnsName(name)?.run ?? "")?.pid === Deno.pid);
}

Deno.test("certify: exit 0 when no MUST failed, 1 when one did, 3 on a harness error", async () => {
  await withDir(GOOD_SUITES, async (suites) => {
    const cases: [(id: string) => "pass" | "warn" | "fail" | "error", number][] = [
      [(id) => id === "vanish/mid-request" ? "warn" : "pass", 0],
      [(id) => id === "rst/idle" ? "fail" : "pass", 1],
      [(id) => id === "rst/idle" ? "fail" : id === "vanish/idle" ? "error" : "pass", 3],
    ];
    for (const [verdictOf, expected] of cases) {
      await withDir({}, async (out) => {
        const result = await cli(["certify", "--out", out], {
          suitesDir: suites,
          certify: fakeCertify(verdictOf).certify,
        });
        assert.equal(result.code, expected, result.stderr);
        assert.equal(result.prepared, 1);
      });
    }
    const thrown = await cli(["certify", "--out", `${suites}/out`], {
      suitesDir: suites,
      certify: () => Promise.reject(new Error("The lab broke")),
    });
    assert.equal(thrown.code, 3);
    assert.match(thrown.stderr, /clientdown: Error: The lab broke/);
  });
});

Deno.test("certify without --out writes to the git-ignored clientdown-reports/ and names the index last", async () => {
  await withDir(GOOD_SUITES, (suites) =>
    withDir({}, async (cwd) => {
      const before = Deno.cwd();
      Deno.chdir(cwd);
      try {
        const result = await cli(["certify"], { suitesDir: suites });
        assert.equal(result.code, 0, result.stderr);
        assert.ok(Deno.statSync(`${cwd}/clientdown-reports/ref-naive.json`).isFile);
        assert.match(
          result.stdout.trimEnd().split("\n").at(-1) ?? "",
          /^The reports are in .+\/clientdown-reports\/: the index is .+\/clientdown-reports\/README\.md$/,
        );
      } finally {
        Deno.chdir(before);
      }
    }));
  const ignored = await run(["git", "-C", REPO_ROOT, "check-ignore", "clientdown-reports/x.json"]);
  assert.equal(ignored.stdout.trim(), "clientdown-reports/x.json");
});

Deno.test("certify --only runs one suite or one scenario against every target; an unknown id exits 2", async () => {
  await withDir(GOOD_SUITES, async (suites) => {
    await withDir({}, async (out) => {
      const one = await cli(["certify", "--only", "rst/idle", "--out", out], { suitesDir: suites });
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(
        [...new Set(one.calls.flatMap((c) => c.scenarios))],
        ["rst/idle"],
      );
      const unknown = await cli(["certify", "--only", "rst/idel", "--out", out], {
        suitesDir: suites,
      });
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /Unknown suite or scenario "rst\/idel"/);
    });
  });
});

Deno.test("certify writes JSON, Markdown and the index; report rebuilds the Markdown byte for byte", async () => {
  await withDir(GOOD_SUITES, (suites) =>
    withDir({}, async (out) => {
      const result = await cli([
        "certify",
        "--out",
        out,
        "--concurrency",
        "10",
        "--deadline",
        "90s",
      ], {
        suitesDir: suites,
      });
      assert.equal(result.code, 0, result.stderr);
      // Both reference targets by default, side by side, drawing from one pool.
      assert.deepEqual(result.calls.map((c) => [c.target, c.options]), [
        ["ref-naive", { deadlineMs: 90_000, concurrency: 10, sharedPool: true }],
        ["ref-hardened", { deadlineMs: 90_000, concurrency: 10, sharedPool: true }],
      ]);
      assert.deepEqual(result.calls[0]?.scenarios, [
        "rst/idle",
        "rst/mid-request",
        "vanish/idle",
        "vanish/mid-request",
        "vanish/mid-response",
      ]);
      const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
      assert.deepEqual(files, [
        "README.md",
        "index.json",
        "ref-hardened.json",
        "ref-hardened.md",
        "ref-naive.json",
        "ref-naive.md",
        "releases.svg",
      ]);
      const json = Deno.readTextFileSync(`${out}/ref-naive.json`);
      assert.equal(json, `${JSON.stringify(JSON.parse(json), null, 2)}\n`);
      assert.match(
        Deno.readTextFileSync(`${out}/README.md`),
        /\[✅\]\(ref-naive\.md#rstidle "rst\/idle: pass"\)\[✅\]\(ref-naive\.md#rstmid-request "rst\/mid-request: pass"\)/,
      );
      assert.match(
        result.stdout,
        /^Wrote .*ref-naive\.json, .*README\.md, .*index\.json\nThe reports are in .+: the index is .+\/README\.md\n$/,
      );
      // Progress (stderr): one line per scenario and target, then the summary.
      assert.equal(result.stderr.split("\n").filter((l) => l.startsWith("pass ")).length, 10);
      assert.match(result.stderr, /10 scenarios: 10 pass/);
      assert.match(result.stderr, /Harness overhead per scenario, median of 10: 90 ms/);

      const markdown = ["README.md", "ref-hardened.md", "ref-naive.md"].map((f) =>
        Deno.readTextFileSync(`${out}/${f}`)
      );
      for (const f of ["README.md", "ref-hardened.md", "ref-naive.md"]) {
        Deno.writeTextFileSync(`${out}/${f}`, "stale");
      }
      const report = await cli(["report", "--out", out], {
        certify: () => Promise.reject(new Error("no lab")),
      });
      assert.equal(report.code, 0, report.stderr);
      assert.equal(report.prepared, 0, "report makes no lab");
      assert.deepEqual(
        ["README.md", "ref-hardened.md", "ref-naive.md"].map((f) =>
          Deno.readTextFileSync(`${out}/${f}`)
        ),
        markdown,
      );
    }));
});

Deno.test("a malformed suite or target file: exit 2, one screen naming file and field, no lab", async () => {
  const before = await ownNamespaces();
  const badSuites = {
    ...GOOD_SUITES,
    "vanish.ts": suiteSource("vanish", [scenarioSource("vanish/idle", { level: `"MAYBE"` })]),
  };
  await withDir(badSuites, async (suites) => {
    const result = await cli(["certify"], { suitesDir: suites });
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^clientdown: Suite file ".+\/vanish\.ts": Invalid suite "vanish", scenario "vanish\/idle": field "level" must be one of MUST, SHOULD, MAY \(got "MAYBE"\)\n$/,
    );
    assert.equal(result.prepared, 0);
    assert.equal(result.calls.length, 0);
  });
  const badTarget = { "my_echo.ts": targetSource({ port: `"80"` }) };
  await withDir(GOOD_SUITES, (suites) =>
    withDir(badTarget, async (targets) => {
      const args = ["suite", "vanish/idle", "--target", `${targets}/my_echo.ts`];
      const result = await cli(args, { suitesDir: suites });
      assert.equal(result.code, 2);
      assert.match(
        result.stderr,
        /^clientdown: Target file ".+\/my_echo\.ts": Invalid target "my-echo": field "port" must be an integer from 1 to 65535\n$/,
      );
      assert.equal(result.prepared, 0);
      assert.equal(result.calls.length, 0);
    }));
  assert.deepEqual(await ownNamespaces(), before);
});

Deno.test("suite: one scenario or a whole suite, a built-in or own target; --json prints only the results; unknown ids exit 2", async () => {
  await withDir(GOOD_SUITES, async (suites) => {
    const json = await cli(["suite", "vanish/idle", "--target", "ref-hardened", "--json"], {
      suitesDir: suites,
    });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(json.calls.map((c) => [c.target, c.scenarios]), [["ref-hardened", [
      "vanish/idle",
    ]]]);
    assert.equal(JSON.parse(json.stdout).scenarios[0].verdict, "pass");
    assert.match(json.stderr, /^pass +vanish\/idle /);

    const human = await cli(["suite", "rst", "--target", "ref-naive", "--concurrency", "3"], {
      suitesDir: suites,
      certify: fakeCertify((id) => id === "rst/idle" ? "fail" : "pass").certify,
    });
    assert.equal(human.code, 1);
    assert.match(human.stdout, /^fail +rst\/idle +released at 5 s by kernel keepalive/m);
    assert.match(human.stdout, /^ {4}MUST: A server does the right thing in rst\/idle$/m);

    await withDir({ "my_echo.ts": targetSource() }, async (targets) => {
      const own = await cli(["suite", "rst/idle", "--target", `${targets}/my_echo.ts`], {
        suitesDir: suites,
      });
      assert.equal(own.code, 0, own.stderr);
      assert.deepEqual(own.calls.map((c) => c.target), ["my-echo"]);
    });

    const nosuch = await cli(["suite", "nosuch"], { suitesDir: suites });
    assert.equal(nosuch.code, 2);
    assert.match(
      nosuch.stderr,
      /^clientdown: Unknown suite or scenario "nosuch": the nearest ids are "/,
    );
    const noTarget = await cli(["suite", "vanish"], { suitesDir: suites });
    assert.equal(noTarget.code, 2);
    assert.match(noTarget.stderr, /Missing --target TARGET/);
    const badTarget = await cli(["suite", "vanish", "--target", "ref-hardend"], {
      suitesDir: suites,
    });
    assert.equal(badTarget.code, 2);
    assert.match(
      badTarget.stderr,
      /Unknown target "ref-hardend": did you mean "ref-hardened"\?/,
    );
    for (const r of [nosuch, noTarget, badTarget]) assert.equal(r.prepared + r.calls.length, 0);
  });
});

Deno.test("usage mistakes exit 2 before anything runs; --help exits 0", async () => {
  const mistakes: [string[], RegExp][] = [
    [[], /Missing command: one of certify, suite, list, check, report, merge, diff, doctor/],
    [["frobnicate"], /Unknown command "frobnicate"/],
    [
      ["certify", "--frobnicate"],
      /Unknown option "--frobnicate" \(see "clientdown certify --help"\)/,
    ],
    [["certify", "--deadline", "soon"], /Invalid --deadline "soon"/],
    [["certify", "--deadline", "0s"], /Invalid --deadline "0s"/],
    // Past 2^31 ms a timer overflows and fires at once: a vanish would turn into an RST.
    [["certify", "--deadline", "600h"], /Invalid deadline: "2160000000" ms/],
    [["certify", "--concurrency", "0"], /Invalid --concurrency "0"/],
    [
      ["certify", "--concurrency", "-3"],
      /^clientdown: Invalid --concurrency "-3": expected a whole/,
    ],
    [
      ["certify", "--concurency", "3"],
      /^clientdown: Unknown option "--concurency" \(did you mean "--concurrency"\?\) \(see /,
    ],
    [["certify", "ref-naive", "ref-naive"], /Target "ref-naive" is given twice/],
    [["suite", "--json", "--target", "ref-naive"], /Expected one suite or scenario id, got 0/],
    [["list", "extra"], /"list" takes no arguments/],
    [
      ["certify", "--out", "/proc/clientdown"],
      /Reports directory "\/proc\/clientdown" cannot be written/,
    ],
  ];
  await withDir(GOOD_SUITES, async (suites) => {
    for (const [args, message] of mistakes) {
      const result = await cli(args, { suitesDir: suites });
      assert.equal(result.code, 2, args.join(" "));
      assert.match(result.stderr, message);
      assert.equal(result.prepared, 0);
    }
  });
  for (const args of [["--help"], ["certify", "--help"], ["suite", "-h"], ["help", "report"]]) {
    const result = await cli(args);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^(clientdown|Usage: clientdown)/);
  }
  for (const command of ["", "certify", "suite", "list", "check", "report", "merge", "diff"]) {
    const result = await cli(["help", command]);
    for (const line of result.stdout.split("\n")) {
      assert.ok(line.length <= 80, `help ${command}: ${line.length} columns: ${line}`);
    }
  }
});

Deno.test("list shows suites, scenarios with level and title, and the built-in targets, which need root", async () => {
  await withDir(GOOD_SUITES, async (suites) => {
    const result = await cli(["list"], { suitesDir: suites });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^vanish: Suite vanish$/m);
    assert.match(
      result.stdout,
      /^ {2}vanish\/mid-response {2}MAY {5}Title of vanish\/mid-response$/m,
    );
    assert.match(result.stdout, /^5 scenarios in 2 suites$/m);
    assert.match(
      result.stdout,
      /^ {2}ref-naive \* +rootless +Reference server, naive .*$(.|\n)*^\* a reference server: what certify runs without a TARGET$/m,
    );
    assert.match(
      result.stdout,
      /^ {2}nginx +root +nginx .*\n( {4}@.*\n)* {4}@send-timeout-10s +root +send_timeout 10s/m,
    );
    for (const line of result.stdout.split("\n")) assert.ok(line.length <= 100, line);
  });
});

Deno.test("report without results, or with a broken results file, exits 2; doctor is injectable", async () => {
  await withDir({}, async (out) => {
    const empty = await cli(["report", "--out", out]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /No results files \(\*\.json\) in "/);
  });
  await withDir({ "x.json": `{"schema": "other"}` }, async (out) => {
    const broken = await cli(["report", "--out", out]);
    assert.equal(broken.code, 2);
    assert.match(
      broken.stderr,
      /Results file ".+\/x\.json": field "schema" must be "clientdown\/results@2" \(got "other"\)/,
    );
  });
  assert.equal((await cli(["doctor"], { doctor: () => Promise.resolve(0) })).code, 0);
});

Deno.test("check: what each exchange saw, the server's words when one failed, exit 2; a server that never starts is exit 2 too", async () => {
  const failed = await cli(["check", "ref-hardened"], {
    check: (target) =>
      Promise.resolve({
        target: target.id,
        readyMs: 210,
        exchanges: [
          {
            exchange: "protocol.request",
            ok: false,
            said: 'its until "PANG\\n" never arrived: nothing more came in 3 s after 5 bytes',
            received: "PONG\n",
          },
          { exchange: "protocol.partialRequest", ok: true, said: "the server waits" },
        ],
        logTail: "bad \x1b[31mrequest",
      }),
  });
  assert.equal(failed.code, 2, failed.stderr);
  assert.equal(
    failed.stdout,
    "ref-hardened: valid; its server listened on port 7070 after 210 ms\n" +
      'FAIL  protocol.request         its until "PANG\\n" never arrived: nothing more came in 3 s after 5 bytes\n' +
      '      the server sent: "PONG\\n"\n' +
      "ok    protocol.partialRequest  the server waits\n" +
      "The server's last lines:\n" +
      "  bad \\x1b[31mrequest\n" +
      "An exchange failed: see above\n",
  );
  const never = await cli(["suite", "rst/idle", "--target", "ref-hardened"], {
    prepareLab: () =>
      Promise.reject(
        new TargetStartError(
          "ref-hardened",
          'did not listen on port "7070" within "10000" ms (it listens on port "8080" instead)',
          "listening on 8080",
        ),
      ),
  });
  assert.equal(never.code, 2);
  assert.equal(
    never.stderr,
    'clientdown: Target "ref-hardened" did not listen on port "7070" within "10000" ms (it ' +
      'listens on port "8080" instead); its last lines:\nlistening on 8080\n',
  );
});

Deno.test("suite prints its results, each line within 100 columns, and the summary last", async () => {
  await withDir(GOOD_SUITES, async (suites) => {
    let all = "";
    const result = await cli(["suite", "vanish", "--target", "ref-hardened"], {
      suitesDir: suites,
      stdout: (t) => all += t,
      stderr: (t) => all += t,
    });
    assert.equal(result.code, 0, all);
    const lines = all.trimEnd().split("\n");
    for (const line of lines) assert.ok(line.length <= 100, `${line.length}: ${line}`);
    assert.match(lines.at(-1) ?? "", /^Wall time |^Harness overhead /);
    assert.match(lines.at(-2) ?? "", /^3 scenarios: |^Wall time /);
  });
});
