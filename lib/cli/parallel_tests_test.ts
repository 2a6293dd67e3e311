import assert from "node:assert/strict";
import { splitArgs, testCounts, testFiles } from "./parallel_tests.ts";

Deno.test("splitArgs: existing paths choose files, everything else goes to deno test", () => {
  const exists = (path: string) => ["lib", "targets/nginx_test.ts"].includes(path);
  assert.deepEqual(splitArgs(["lib", "--filter=vanish", "targets/nginx_test.ts", "nope"], exists), {
    paths: ["lib", "targets/nginx_test.ts"],
    flags: ["--filter=vanish", "nope"],
  });
  assert.deepEqual(splitArgs([], exists), { paths: [], flags: [] });
});

Deno.test("testFiles finds deno test's file names, slow folders first, skips the excluded", () => {
  const base = Deno.makeTempDirSync({ prefix: "clientdown-test-files-" });
  try {
    for (
      const file of [
        "a_test.ts",
        "lib/b.test.ts",
        "lib/cli/c_test.ts",
        "lib/report/d_test.ts",
        "lib/x/test.ts",
        "lib/x/helper.ts",
        "lib/x/attest.ts",
        "targets/nginx_test.ts",
        "reports/e_test.ts",
        "node_modules/f_test.ts",
        ".git/g_test.ts",
      ]
    ) {
      Deno.mkdirSync(`${base}/${file.slice(0, file.lastIndexOf("/") + 1)}`, { recursive: true });
      Deno.writeTextFileSync(`${base}/${file}`, "");
    }
    assert.deepEqual(testFiles([base], base, ["reports/"]), [
      "targets/nginx_test.ts",
      "lib/report/d_test.ts",
      "lib/cli/c_test.ts",
      "a_test.ts",
      "lib/b.test.ts",
      "lib/x/test.ts",
    ]);
    // A file named outright runs whatever its name; a folder is searched.
    assert.deepEqual(testFiles([`${base}/lib/x/helper.ts`, `${base}/lib/cli`], base, []), [
      "lib/cli/c_test.ts",
      "lib/x/helper.ts",
    ]);
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
});

Deno.test("testCounts reads deno test's closing line", () => {
  assert.deepEqual(testCounts("x ... ok (1ms)\n\nok | 3 passed | 0 failed (2s)\n"), {
    passed: 3,
    failed: 0,
    ignored: 0,
  });
  assert.deepEqual(
    testCounts("FAILED | 2 passed | 1 failed | 4 ignored | 1 filtered out (9s)\n"),
    { passed: 2, failed: 1, ignored: 4 },
  );
  assert.deepEqual(testCounts("error: Module not found\n"), { passed: 0, failed: 0, ignored: 0 });
});
