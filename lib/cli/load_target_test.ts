import assert from "node:assert/strict";
import { relative } from "node:path";
import { builtInTargetIds, loadTarget, REFERENCE_TARGETS } from "./load_target.ts";
import { UsageError } from "./usage_error.ts";
import { targetSource, tempDirWith } from "./testdata/temp_files.ts";

async function messageOf(promise: Promise<unknown>): Promise<string> {
  return await promise.then(
    () => assert.fail("expected a UsageError"),
    (error: unknown) => {
      assert(error instanceof UsageError, String(error));
      return error.message;
    },
  );
}

Deno.test("the reference targets are built in and load by id", async () => {
  const ids = builtInTargetIds();
  for (const id of REFERENCE_TARGETS) {
    assert(ids.includes(id), `"${id}" in ${ids}`);
    assert.equal((await loadTarget(id)).id, id);
  }
});

Deno.test("a target file loads by absolute path and by a path relative to the working directory", async () => {
  const dir = await tempDirWith({ "my_echo.ts": targetSource() });
  try {
    assert.equal((await loadTarget(`${dir}/my_echo.ts`)).title, "my echo server");
    const fromCwd = relative(Deno.cwd(), `${dir}/my_echo.ts`);
    assert.equal((await loadTarget(fromCwd)).id, "my-echo");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a malformed target file is a UsageError naming the file and the field", async () => {
  const dir = await tempDirWith({
    "bad_port.ts": targetSource({ port: "70000" }),
    "no_protocol.ts": targetSource({ protocol: "" }),
    "plain.ts":
      `export default { id: "plain", title: "plain", port: 1, start: () => ({ argv: [] }) };`,
    "nothing.ts": `export const target = 1;`,
  });
  try {
    assert.match(
      await messageOf(loadTarget(`${dir}/bad_port.ts`)),
      /^Target file "\/tmp\/.+\/bad_port\.ts": Invalid target "my-echo": field "port" must be an integer from 1 to 65535$/,
    );
    assert.match(
      await messageOf(loadTarget(`${dir}/no_protocol.ts`)),
      /^Target file ".+\/no_protocol\.ts": .*field "protocol\.request"/,
    );
    assert.match(
      await messageOf(loadTarget(`${dir}/plain.ts`)),
      /^Target file ".+\/plain\.ts": Invalid target "plain": field "protocol\.request"/,
    );
    assert.match(
      await messageOf(loadTarget(`${dir}/nothing.ts`)),
      /^Target file ".+\/nothing\.ts" has no default export: expected "export default defineTarget/,
    );
    assert.match(
      await messageOf(loadTarget(`${dir}/missing.ts`)),
      /^Target file ".+\/missing\.ts" does not exist$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown target id lists the nearest built-in ids; a built-in's id must match its file", async () => {
  assert.match(
    await messageOf(loadTarget("ref-hardend")),
    /^Unknown target "ref-hardend": the nearest built-in targets are "ref-hardened", "ref-naive"/,
  );
  const dir = await tempDirWith({ "my_echo.ts": targetSource({ id: `"other"` }) });
  try {
    assert.match(
      await messageOf(loadTarget("my-echo", dir)),
      /^Target file ".+\/my_echo\.ts": field "id" must be "my-echo", as its file name says \(got "other"\)$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
