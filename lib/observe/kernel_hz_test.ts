import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { kernelConfigPaths, parseConfigHz, readKernelHz } from "./kernel_hz.ts";

const CONFIG_250 = `#
# Timers subsystem
#
CONFIG_TICK_ONESHOT=y
CONFIG_NO_HZ_COMMON=y
# CONFIG_HZ_PERIODIC is not set
# CONFIG_HZ_100 is not set
CONFIG_HZ_250=y
# CONFIG_HZ_300 is not set
# CONFIG_HZ_1000 is not set
CONFIG_HZ=250
CONFIG_SCHED_HRTICK=y
`;

const CONFIG_1000 = CONFIG_250.replace("CONFIG_HZ_250=y", "# CONFIG_HZ_250 is not set")
  .replace("# CONFIG_HZ_1000 is not set", "CONFIG_HZ_1000=y")
  .replace("CONFIG_HZ=250", "CONFIG_HZ=1000");

Deno.test("parseConfigHz reads CONFIG_HZ, not CONFIG_HZ_<n> nor a comment", () => {
  assert.equal(parseConfigHz(CONFIG_250), 250);
  assert.equal(parseConfigHz(CONFIG_1000), 1000);
  assert.equal(parseConfigHz("CONFIG_HZ_100=y\n"), undefined);
  assert.equal(parseConfigHz("# CONFIG_HZ=100 is not set\n"), undefined);
  assert.equal(parseConfigHz("CONFIG_HZ=0\n"), undefined);
  assert.equal(parseConfigHz("CONFIG_HZ=\n"), undefined);
  assert.equal(parseConfigHz(""), undefined);
  assert.equal(parseConfigHz("CONFIG_HZ=300\r\n"), 300);
});

async function withFixtures(
  files: { gz?: Uint8Array; boot?: string },
  fn: (paths: { procConfigGz: string; bootConfig: string }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kernel_hz_test_" });
  try {
    const paths = { procConfigGz: `${dir}/config.gz`, bootConfig: `${dir}/config-6.1.0` };
    if (files.gz) await Deno.writeFile(paths.procConfigGz, files.gz);
    if (files.boot !== undefined) await Deno.writeTextFile(paths.bootConfig, files.boot);
    await fn(paths);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readKernelHz: /proc/config.gz first, gunzipped", async () => {
  const gz = gzipSync(new TextEncoder().encode(CONFIG_1000));
  await withFixtures({ gz, boot: CONFIG_250 }, async (paths) => {
    assert.equal(await readKernelHz(paths), 1000);
  });
});

Deno.test("readKernelHz: the /boot configuration when /proc/config.gz is absent or silent", async () => {
  await withFixtures({ boot: CONFIG_250 }, async (paths) => {
    assert.equal(await readKernelHz(paths), 250);
  });
  const silent = gzipSync(new TextEncoder().encode("CONFIG_IKCONFIG=y\n"));
  await withFixtures({ gz: silent, boot: CONFIG_1000 }, async (paths) => {
    assert.equal(await readKernelHz(paths), 1000);
  });
  const notGzip = new TextEncoder().encode(CONFIG_250);
  await withFixtures({ gz: notGzip, boot: CONFIG_1000 }, async (paths) => {
    assert.equal(await readKernelHz(paths), 1000);
  });
});

Deno.test("readKernelHz: undefined when neither says", async () => {
  await withFixtures({}, async (paths) => {
    assert.equal(await readKernelHz(paths), undefined);
  });
  await withFixtures({ boot: "# no timers here\n" }, async (paths) => {
    assert.equal(await readKernelHz(paths), undefined);
  });
});

Deno.test("readKernelHz reads this machine's kernel: CONFIG_HZ=250", async () => {
  const { procConfigGz, bootConfig } = kernelConfigPaths();
  assert.equal(bootConfig, `/boot/config-${Deno.osRelease()}`);
  assert.equal(procConfigGz, "/proc/config.gz");
  // The project's kernel (6.18, built with HZ=250) exposes its configuration in /proc.
  assert.equal(await readKernelHz(), 250);
});
