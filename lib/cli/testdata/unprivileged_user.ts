/**
 * The CLI run as an ordinary user, for the rootless tests, which run as root: a system user
 * made for them (`useradd --system`, once), and a sandbox it can read, since root's own files
 * (/root is mode 700: npx's Deno binary, Deno's module cache, maybe the checkout) are out of its
 * reach: a copy of the Deno binary, of Deno's npm cache (no network needed) and of the
 * repository's code, and a home directory of its own. The sandbox is removed by `remove()`.
 *
 * @module
 */

import { join } from "node:path";
import { run } from "../../process/spawn.ts";
import { REPO_ROOT } from "../repo_paths.ts";

/** The system user the rootless tests run as. */
export const TEST_USER = "clientdown-rootless";

/** What the repository's commands need, copied into the sandbox. */
const CODE = ["mod.ts", "deno.json", "deno.lock", "lib", "targets", "suites"];

/** Makes the test user unless it exists: a system user and group, no home, no login shell. */
export async function ensureTestUser(): Promise<void> {
  if ((await run(["id", "-u", TEST_USER], { accept: [1] })).code === 0) return;
  await run([
    "useradd",
    "--system",
    "--user-group",
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
    TEST_USER,
  ], { accept: [9] }); // 9: made meanwhile by another test process
}

/** What a command printed and its exit code. */
export interface UserRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A sandbox the test user can read and write; `remove()` when done. */
export class UserSandbox {
  /** The sandbox's directory. */
  readonly dir: string;
  /** The user's home: `~/.local/state/clientdown` is its state directory. */
  readonly home: string;
  /** The copy of the repository, where commands run. */
  readonly repo: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.home = join(dir, "home");
    this.repo = join(dir, "repo");
  }

  /** Makes the user (once) and fills a new sandbox. */
  static async create(): Promise<UserSandbox> {
    await ensureTestUser();
    const box = new UserSandbox(await Deno.makeTempDir({ prefix: "clientdown-rootless-" }));
    await Deno.chmod(box.dir, 0o755);
    const info = JSON.parse((await run([Deno.execPath(), "info", "--json"])).stdout);
    await Deno.mkdir(join(box.dir, "deno_dir"));
    await Deno.mkdir(box.home);
    await Deno.mkdir(box.repo);
    await run(["cp", Deno.execPath(), join(box.dir, "deno")]);
    await run(["cp", "-r", info.npmCache, join(box.dir, "deno_dir", "npm")], {
      timeoutMs: 300_000,
    });
    await run(["cp", "-r", ...CODE.map((p) => join(REPO_ROOT, p)), box.repo]);
    await run(["chown", "-R", `${TEST_USER}:`, box.dir]);
    return box;
  }

  /** The argv that runs `command` as the test user with the sandbox's Deno, in a clean environment. */
  argv(command: readonly string[]): string[] {
    return [
      "setpriv",
      `--reuid=${TEST_USER}`,
      `--regid=${TEST_USER}`,
      "--clear-groups",
      "env",
      "-i",
      `HOME=${this.home}`,
      `DENO_DIR=${join(this.dir, "deno_dir")}`,
      `PATH=${this.dir}:/usr/bin:/bin`, // a Debian user's: without the sbin directories
      "NO_COLOR=1",
      "DENO_NO_UPDATE_CHECK=1",
      join(this.dir, "deno"),
      "run",
      "--allow-all",
      "mod.ts",
      ...command,
    ];
  }

  /** Runs a clientdown command (`["suite", ...]`) as the test user, to its end. */
  async clientdown(command: readonly string[], timeoutMs = 300_000): Promise<UserRun> {
    const { code, stdout, stderr } = await run(this.argv(command), {
      cwd: this.repo,
      accept: [...Array(256).keys()],
      timeoutMs,
    });
    return { code, stdout, stderr };
  }

  /** Removes the sandbox. */
  async remove(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** The pids of the test user's processes. */
export function userProcesses(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const status = Deno.readTextFileSync(`/proc/${entry.name}/status`);
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid) pids.push(Number(entry.name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
