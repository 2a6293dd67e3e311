import assert from "node:assert/strict";
import { relative } from "node:path";
import { builtInTargetIds, checkVersions, loadTarget, REFERENCE_TARGETS } from "./load_target.ts";
import { UsageError } from "./usage_error.ts";
import { hex } from "../target/define_target.ts";
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
      /^Target file ".+\/no_protocol\.ts": .*field "protocol" must be an object .*\(got nothing\)$/,
    );
    assert.match(
      await messageOf(loadTarget(`${dir}/plain.ts`)),
      /^Target file ".+\/plain\.ts": Invalid target "plain": field "protocol"/,
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

Deno.test("an unknown target id suggests the one or two close built-in ids only; a built-in's id must match its file", async () => {
  assert.equal(
    await messageOf(loadTarget("ref-hardend")),
    'Unknown target "ref-hardend": did you mean "ref-hardened"? ("list" shows the built-in ' +
      "targets; or give the path of a target file)",
  );
  assert.match(
    await messageOf(loadTarget("ngnix")),
    /^Unknown target "ngnix": did you mean "nginx"\? \(/,
  );
  assert.match(await messageOf(loadTarget("zzzzzz")), /^Unknown target "zzzzzz": \("list" shows/);
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

const start = (spec: string) => `({ address, port, dir }) => (${spec})`;
const protocolWith = (parts: string) =>
  `{ request: { send: "PING\\n", until: "PONG\\n" }, partialRequest: "PI", ${parts} }`;

Deno.test("each bad field of a target or of what its start() returns: file and field named", async () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "also_needs",
      { install: `{ binary: "x", debianPackage: "x", alsoNeeds: [{ binary: "y" }] }` },
      /field "install\.alsoNeeds" must be an array of \{ binary: string, debianPackage: string \}/,
    ],
    [
      "empty_argv",
      { start: start(`{ argv: [] }`) },
      /field "start\(\)\.argv" must be a non-empty array/,
    ],
    [
      "argv_number",
      { start: start(`{ argv: ["x", 1] }`) },
      /field "start\(\)\.argv\[1\]" must be a string \(got "1"\)/,
    ],
    [
      "stop_signal",
      { start: start(`{ argv: ["x"], stopSignal: "SIGFOO" }`) },
      /field "start\(\)\.stopSignal" must be a signal that ends a process.*\(got "SIGFOO"\)/,
    ],
    [
      "stop_sigstop",
      { start: start(`{ argv: ["x"], stopSignal: "SIGSTOP" }`) },
      /field "start\(\)\.stopSignal"/,
    ],
    [
      "escape",
      { start: start(`{ argv: ["x"], files: { "../etc/passwd": "" } }`) },
      /field "start\(\)\.files" must be paths relative to the lab directory, staying inside it \(got "\.\.\/etc\/passwd"\)/,
    ],
    [
      "absolute",
      { start: start(`{ argv: ["x"], files: { [dir + "/a"]: "" } }`) },
      /field "start\(\)\.files" .*\(got "\/.+\/a"\)/,
    ],
    [
      "deep_escape",
      { start: start(`{ argv: ["x"], files: { "a/../../b": "" } }`) },
      /field "start\(\)\.files"/,
    ],
    [
      "prepare",
      { start: start(`{ argv: ["x"], prepare: [[]] }`) },
      /field "start\(\)\.prepare\[0\]" must be a non-empty array of strings/,
    ],
    [
      "throws",
      { start: `() => { throw new Error("no config") }` },
      /field "start" must be a function that returns \{ argv \} for a lab \(it threw Error: no config\)/,
    ],
    [
      "bytes_float",
      { protocol: protocolWith(`largeRequest: { send: "BIG\\n", responseBytes: 1.5 }`) },
      /field "protocol\.largeRequest\.responseBytes" must be a positive whole number of bytes \(got "1\.5"\)/,
    ],
    ["bytes_string", {
      protocol: protocolWith(`largeRequest: { send: "BIG\\n", responseBytes: "64M" }`),
    }, /field "protocol\.largeRequest\.responseBytes" .*\(got "64M"\)/],
    ["empty_until", {
      protocol: `{ request: { send: "PING\\n", until: "" }, partialRequest: "PI" }`,
    }, /field "protocol\.request\.until" must be a non-empty string/],
    [
      "greeting_until",
      { protocol: protocolWith(`greeting: { send: "HELLO\\n", until: "" }`) },
      /field "protocol\.greeting\.until"/,
    ],
    [
      "variant_protocol",
      {
        variants: `{ tuned: { title: "tuned", start: ${
          start(`{ argv: ["x"] }`)
        }, protocol: { request: { send: "A" }, partialRequest: "" } } }`,
      },
      /field "variants\.tuned\.protocol\.request\.until" must be a non-empty string or Uint8Array: the last bytes of the response \(got nothing\)/,
    ],
    ["variant_start", {
      variants: `{ tuned: { title: "tuned", start: ${start(`{ argv: [""] }`)} } }`,
    }, /field "variants\.tuned\.start\(\)\.argv\[0\]" must be a non-empty string/],
    ["version_type", { version: `"1.0"` }, /field "version" must be a function/],
  ];
  const dir = await tempDirWith(
    Object.fromEntries(cases.map(([name, fields]) => [`${name}.ts`, targetSource(fields)])),
  );
  try {
    for (const [name, , expected] of cases) {
      const message = await messageOf(loadTarget(`${dir}/${name}.ts`));
      assert.match(
        message,
        new RegExp(`^Target file ".+/${name}\\.ts": Invalid target "my-echo": `),
        name,
      );
      assert.match(message, expected, name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a version() that throws is reported with its file, not taken for unknown", async () => {
  const dir = await tempDirWith({
    "flaky.ts": targetSource({ version: `() => { throw new Error("my-echo: not found") }` }),
    "fine.ts": targetSource({ version: `() => "my-echo 1.2"` }),
  });
  try {
    await checkVersions([await loadTarget(`${dir}/fine.ts`)]);
    assert.match(
      await messageOf(loadTarget(`${dir}/flaky.ts`).then((t) => checkVersions([t]))),
      /^Target file ".+\/flaky\.ts": field "version" failed for target "my-echo": Error: my-echo: not found$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a path with @ is a path when the file exists; id@variant splits at the last @", async () => {
  const variants = `{ tuned: { title: "tuned", start: ${start(`{ argv: ["x", "--tuned"] }`)} } }`;
  const dir = await tempDirWith({});
  try {
    await Deno.mkdir(`${dir}/v@1`);
    await Deno.writeTextFile(`${dir}/v@1/target.ts`, targetSource({ variants }));
    assert.equal((await loadTarget(`${dir}/v@1/target.ts`)).id, "my-echo");
    const tuned = await loadTarget(`${dir}/v@1/target.ts@tuned`);
    assert.equal(tuned.id, "my-echo@tuned");
    assert.deepEqual(tuned.start({ address: "a", port: 1, dir: "d" }).argv, ["x", "--tuned"]);
    assert.match(
      await messageOf(loadTarget(`${dir}/v@1/target.ts@other`)),
      /^Target "my-echo" has no variant "other": its variants are "tuned"$/,
    );
    assert.match(
      await messageOf(loadTarget(`${dir}/v@2/target.ts`)),
      /^Target file ".+\/v@2\/target\.ts" does not exist$/,
    );
    assert.equal((await loadTarget("ref-hardened")).id, "ref-hardened");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a user target with a built-in's id is refused, the built-in's own file is not", async () => {
  const dir = await tempDirWith({ "my_nginx.ts": targetSource({ id: `"ref-naive"` }) });
  try {
    assert.match(
      await messageOf(loadTarget(`${dir}/my_nginx.ts`)),
      /^Target file ".+\/my_nginx\.ts": field "id" is "ref-naive", the id of the built-in target "targets\/ref_naive\.ts": give your target an id of its own$/,
    );
    assert.equal((await loadTarget("./targets/ref_naive.ts")).id, "ref-naive");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown key anywhere in a target is refused, naming it and the key likely meant", async () => {
  const start = (extra: string) =>
    `({ address, port }) => ({ argv: ["my-echo", \`\${address}:\${port}\`], ${extra} })`;
  const cases: [Record<string, string>, string, string][] = [
    [{ start: start("readyTimeoutMS: 3000") }, "start().readyTimeoutMS", "readyTimeoutMs"],
    [{ start: start(`stopSignall: "SIGINT"`) }, "start().stopSignall", "stopSignal"],
    [{ knobz: "{}" }, "knobz", "knobs"],
    [
      { install: `{ binary: "x", debianPackage: "x", alsoNeed: [] }` },
      "install.alsoNeed",
      "alsoNeeds",
    ],
    [
      { protocol: `{ request: { send: "PING\\n", untill: "PONG\\n" }, partialRequest: "PI" }` },
      "protocol.request.untill",
      "until",
    ],
    [
      { protocol: `{ request: { send: "P", until: "Q" }, partialRequest: "P", greting: {} }` },
      "protocol.greting",
      "greeting",
    ],
    [
      { variants: `{ tuned: { title: "t", start: ${start("")}, knob: {} } }` },
      "variants.tuned.knob",
      "knobs",
    ],
    [
      { variants: `{ tuned: { title: "t", start: ${start("envv: {}")} } }` },
      "variants.tuned.start().envv",
      "env",
    ],
    [
      {
        variants: `{ tuned: { title: "t", start: ${start("")}, protocol: { request: { send: "P", ` +
          `until: "Q" }, partialRequest: "P", largeRequest: { send: "B", responseByte: 9 } } } }`,
      },
      "variants.tuned.protocol.largeRequest.responseByte",
      "responseBytes",
    ],
  ];
  for (const [fields, field, meant] of cases) {
    const dir = await tempDirWith({ "my_echo.ts": targetSource(fields) });
    try {
      const message = await messageOf(loadTarget(`${dir}/my_echo.ts`));
      assert.match(message, /^Target file ".+\/my_echo\.ts": Invalid target "my-echo": field "/);
      assert(
        message.includes(`field "${field}" is unknown: did you mean "${meant}"? (known here: `),
        message,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("protocol payloads may be bytes: a Uint8Array, or hex() for one; an empty one is refused", async () => {
  assert.deepEqual(hex("80 00 ff"), Uint8Array.of(0x80, 0x00, 0xff));
  assert.throws(() => hex("8"), /Invalid hex bytes "8": expected pairs of hex digits/);
  const binary = `{
    request: { send: new Uint8Array([0x30, 0x80]), until: new Uint8Array([0x0a]) },
    partialRequest: new Uint8Array([0x30]),
    largeRequest: { send: new Uint8Array([0x80]), responseBytes: 67108864 },
  }`;
  const empty = `{ request: { send: new Uint8Array(), until: "x" }, partialRequest: "P" }`;
  const dir = await tempDirWith({
    "binary.ts": targetSource({ protocol: binary }),
    "empty.ts": targetSource({ protocol: empty }),
  });
  try {
    const target = await loadTarget(`${dir}/binary.ts`);
    assert.deepEqual(target.protocol.request.send, Uint8Array.of(0x30, 0x80));
    assert.match(
      await messageOf(loadTarget(`${dir}/empty.ts`)),
      /field "protocol\.request\.send" must be a non-empty string or Uint8Array \(got an object\)$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
