/**
 * The rootless path as an ordinary user takes it, in CI that runs as root: the commands run as
 * a system user made for the test (see testdata/unprivileged_user.ts), through `setpriv`.
 */
import assert from "node:assert/strict";
import { onPath, run } from "../process/spawn.ts";
import type { Results } from "../results/schema.ts";
import { TEST_USER, userProcesses, UserSandbox } from "./testdata/unprivileged_user.ts";

const ABLE = Deno.uid() === 0 && onPath("setpriv") && onPath("useradd") && onPath("unshare");

/**
 * Whatever else runs on the host, the test user's own processes must be gone (bounded: 10 s, for the exits of a killed PID namespace on a busy machine).
 * Its namespaces and their mounts die with the last of them: none was ever the host's.
 */
async function userLeftNothing(box: UserSandbox, uid: number): Promise<void> {
  for (let i = 0; i < 100 && userProcesses(uid).length; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(userProcesses(uid), [], "no process of the test user is left");
  const state = `${box.home}/.local/state/clientdown`;
  const left = [...(function* () {
    try {
      yield* Deno.readDirSync(state);
    } catch {
      // never made
    }
  })()];
  assert.deepEqual(left, [], "nothing in the user's state directory");
}

Deno.test({
  name: "an ordinary user certifies through a user namespace of its own, or is told why not",
  ignore: !ABLE,
  async fn(t) {
    const box = await UserSandbox.create();
    try {
      const uid = Number((await run(["id", "-u", TEST_USER])).stdout.trim());

      const doctor = await box.clientdown(["doctor"]);
      const verdict = doctor.stdout.trim().split("\n").at(-1) ?? "";
      assert.match(verdict, /^Rootless labs (work|do not work) here: /, doctor.stderr);
      if (verdict.startsWith("Rootless labs do not work")) {
        // This kernel refuses unprivileged user namespaces: a lab command says so, naming why.
        const refused = await box.clientdown(["suite", "rst/idle", "--target", "ref-hardened"]);
        assert.equal(refused.code, 2, refused.stderr);
        assert.match(refused.stderr, /Labs without root cannot run here: /);
        return;
      }

      await t.step("a suite runs, records that it was rootless, leaves nothing", async () => {
        const suite = await box.clientdown([
          "suite",
          "rst/idle",
          "--target",
          "ref-hardened",
          "--json",
        ]);
        assert.equal(suite.code, 0, suite.stderr);
        const results: Results = JSON.parse(suite.stdout);
        assert.equal(results.environment.rootless, true);
        const [scenario] = results.scenarios;
        assert.equal(scenario?.verdict, "pass", JSON.stringify(scenario));
        // The capture works: the release is told by the peer's RST, as in a root's lab.
        assert.equal(scenario.measurements.releasedHow, "reset-by-peer");
        assert.ok(
          scenario.evidence.some((e) => e.actor === "client" && e.what === "RST"),
          JSON.stringify(scenario.evidence),
        );
        await userLeftNothing(box, uid);
      });

      await t.step("a target that switches user is refused before any lab, exit 2", async () => {
        const refused = await box.clientdown(["suite", "rst/idle", "--target", "nginx"]);
        assert.equal(refused.code, 2, refused.stderr);
        assert.match(refused.stderr, /"nginx" cannot run without root: .*"www-data"/);
        await userLeftNothing(box, uid);
      });

      await t.step(
        "a server to install is refused before any lab, exit 2, with the command",
        async () => {
          const file = `${box.repo}/missing_server.ts`;
          await Deno.writeTextFile(
            file,
            `import { defineTarget } from "./mod.ts";
export default defineTarget({
  id: "missing-server",
  title: "A server that is not installed",
  install: { binary: "clientdown-no-such-server", debianPackage: "clientdown-no-such-package" },
  port: 8000,
  start: () => ({ argv: ["clientdown-no-such-server"] }),
  protocol: { request: { send: "a\\n", until: "b" }, partialRequest: "a" },
});
`,
          );
          await Deno.chmod(file, 0o644);
          const refused = await box.clientdown(["suite", "rst/idle", "--target", file]);
          assert.equal(refused.code, 2, refused.stderr);
          assert.match(
            refused.stderr,
            /only root can install them: sudo apt-get install -y clientdown-no-such-package/,
          );
          await userLeftNothing(box, uid);
        },
      );

      for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        await t.step(`${signal} during a run ends it, and nothing is left`, async () => {
          const [program = "", ...args] = box.argv(
            ["suite", "vanish/idle", "--target", "ref-naive", "--deadline", "60s"],
          );
          const child = new Deno.Command(program, {
            args,
            cwd: box.repo,
            stdout: "null",
            stderr: "piped",
          }).spawn();
          // The lab is up once its capture runs (bounded: 60 s on a busy machine). The capture's
          // tcpdump, not the capability probe's (`tcpdump -d`, which exits at once).
          const capturing = () =>
            userProcesses(uid).some((pid) => {
              try {
                const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
                return argv[0] === "tcpdump" && argv.includes("--immediate-mode");
              } catch {
                return false;
              }
            });
          for (let i = 0; i < 600 && !capturing(); i++) {
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.ok(capturing(), "the lab came up");
          // SIGTERM is passed on and the run cleans up; SIGKILL of the process the user
          // started kills unshare (its parent-death signal), and the kernel everything inside.
          child.kill(signal);
          const [status, stderr] = await Promise.all([
            child.status,
            new Response(child.stderr).text(),
          ]);
          if (signal === "SIGTERM") {
            assert.equal(status.code, 143, stderr);
            assert.match(stderr, /Interrupted by SIGTERM/);
          }
          await userLeftNothing(box, uid);
        });
      }
    } finally {
      await box.remove();
    }
  },
});
