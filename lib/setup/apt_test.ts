import assert from "node:assert/strict";
import { spawn } from "../process/spawn.ts";
import { lockHolders, lockKey, SetupError, waitForAptLocks } from "./apt.ts";

const LOCKS = `1: POSIX  ADVISORY  READ 5728 fe:00:16042659 128 128
2: POSIX  ADVISORY  WRITE 812 fe:00:402117 0 EOF
3: FLOCK  ADVISORY  WRITE 16924 fe:00:402117 0 EOF
3: -> FLOCK  ADVISORY  WRITE 17000 fe:00:402117 0 EOF
4: OFDLCK ADVISORY  WRITE -1 08:01:402117 0 EOF
`;

Deno.test("lockHolders: fcntl and flock holders of apt's lock files, not waiters or other files", () => {
  assert.deepEqual(lockHolders(LOCKS, ["fe:00:402117"]), [812, 16924]);
  assert.deepEqual(lockHolders(LOCKS, ["08:01:1"]), []);
  assert.equal(lockKey({ dev: 0xfe00, ino: 402117 }), "fe:00:402117");
  assert.equal(lockKey({ dev: 0x100803, ino: 7 }), "08:103:7");
});

Deno.test("waitForAptLocks says once that it waits, then proceeds; a lock never freed is a SetupError", async () => {
  const lines: string[] = [];
  let looks = 0;
  const left = await waitForAptLocks((line) => lines.push(line), {
    readLocks: () => looks++ < 3 ? LOCKS : "",
    keys: ["fe:00:402117"],
    nameOf: (pid) => pid === 812 ? "apt-get" : "flock",
    waitMs: 60_000,
    pollMs: 1,
  });
  assert.ok(left > 0);
  assert.deepEqual(lines, [
    "Waiting for another apt to finish: process 812 (apt-get), 16924 (flock) holds its lock " +
    "(up to 1 min)",
    "The other apt finished; installing",
  ]);
  assert.equal(
    await waitForAptLocks(() => assert.fail("no wait"), { readLocks: () => "" }),
    600_000,
  );
  await assert.rejects(
    waitForAptLocks(() => {}, {
      readLocks: () => LOCKS,
      keys: ["fe:00:402117"],
      nameOf: () => "apt-get",
      waitMs: 20,
      pollMs: 5,
    }),
    (error) =>
      error instanceof SetupError &&
      /^Another apt still holds its lock after 0 s: process 812 \(apt-get\), 16924/.test(
        error.message,
      ),
  );
});

Deno.test("waitForAptLocks sees a real flock(1) holder in /proc/locks and waits until it ends", async () => {
  const file = await Deno.makeTempFile({ prefix: "clientdown-lock-" });
  const holder = spawn(["flock", file, "sleep", "1"]);
  try {
    const key = lockKey(Deno.statSync(file) as { dev: number; ino: number | null });
    // flock(1) takes the lock just after it starts: look until it shows.
    for (let i = 0; i < 100 && !Deno.readTextFileSync("/proc/locks").includes(key); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const lines: string[] = [];
    await waitForAptLocks((line) => lines.push(line), { keys: [key], pollMs: 50, waitMs: 30_000 });
    assert.match(lines[0] ?? "", /^Waiting for another apt to finish: process \d+ \(flock\)/);
    assert.equal((await holder.status).code, 0);
  } finally {
    await holder.status;
    await Deno.remove(file);
  }
});
