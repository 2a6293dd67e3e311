import assert from "node:assert/strict";
import refHardened from "../../targets/ref_hardened.ts";
import refNaive from "../../targets/ref_naive.ts";
import { LineClient } from "../../targets/ref/testdata/line_client_driver.ts";
import { createLab } from "../lab/lab.ts";
import { run } from "../process/spawn.ts";
import { defineTarget, type TargetDefinition } from "./define_target.ts";
import { startTarget, TargetStartError } from "./start_target.ts";

/** A target that runs a shell script instead of a server. */
function shellTarget(id: string, script: string, files?: Record<string, string>): TargetDefinition {
  return defineTarget({
    ...refNaive,
    id,
    title: id,
    start: () => ({ argv: ["sh", "-c", script], ...(files ? { files } : {}) }),
  });
}

async function startFailure(starting: Promise<unknown>): Promise<TargetStartError> {
  try {
    await starting;
  } catch (error) {
    assert.ok(error instanceof TargetStartError, `Unexpected error: ${error}`);
    return error;
  }
  return assert.fail("startTarget resolved, expected a TargetStartError");
}

function includes(text: string, part: string, message = `Expected "${part}" in: ${text}`) {
  assert.ok(text.includes(part), message);
}

Deno.test("startTarget starts both reference servers over IPv4 and IPv6 and they answer", async () => {
  const lab = await createLab();
  try {
    for (const target of [refNaive, refHardened]) {
      for (const family of ["v4", "v6"] as const) {
        const running = await startTarget(target, lab, family);
        try {
          console.log(`${target.id} ${family}: ready after ${running.readyMs.toFixed(0)} ms`);
          const client = await LineClient.connect(lab, running.address, running.port);
          try {
            await client.send(target.protocol.request.send as string);
            const reply = await client.read(target.protocol.request.until as string, 2000);
            assert.equal(reply.outcome, "ok");
          } finally {
            await client.close();
          }
        } finally {
          const status = await running.stop();
          assert.equal(status.signal, "SIGTERM", "stop() ends the server itself, by pid");
        }
        includes(await Deno.readTextFile(running.logPath), "event=accept");
      }
    }
  } finally {
    await lab.teardown();
  }
});

Deno.test("startTarget writes the target's files into the lab directory first", async () => {
  const lab = await createLab();
  try {
    const target = shellTarget("files", "cat conf/a.txt >&2; exec sleep 30", {
      "conf/a.txt": "from the target file\n",
    });
    const error = await startFailure(startTarget(target, lab, "v4", { readyTimeoutMs: 300 }));
    assert.equal(await Deno.readTextFile(`${lab.dir}/conf/a.txt`), "from the target file\n");
    includes(error.logTail, "from the target file", "the target runs in the lab directory");
    await assert.rejects(
      () => startTarget(shellTarget("escape", "true", { "../x": "" }), lab, "v4"),
      (error: Error) => error instanceof TypeError && error.message.includes('"../x"'),
    );
  } finally {
    await lab.teardown();
  }
});

Deno.test("startTarget names a target that exits early and shows its log", async () => {
  const lab = await createLab();
  try {
    const target = shellTarget("early-exit", "echo cannot bind >&2; exit 3");
    const error = await startFailure(startTarget(target, lab, "v4"));
    includes(error.message, '"early-exit" exited with code "3"');
    includes(error.message, "cannot bind");
  } finally {
    await lab.teardown();
  }
});

Deno.test("startTarget gives up on a target that never listens, and ends it", async () => {
  const lab = await createLab();
  try {
    const target = shellTarget("mute", "echo waiting >&2; exec sleep 30");
    const started = performance.now();
    const error = await startFailure(startTarget(target, lab, "v6", { readyTimeoutMs: 300 }));
    includes(error.message, '"mute" did not listen on port "7070" within "300" ms');
    includes(error.message, "waiting");
    // The wait is bounded: 300 ms plus ending the process (SIGTERM ends sleep at once).
    assert.ok(performance.now() - started < 2000, "startTarget waited far past its bound");
    const left = await run(["ip", "netns", "pids", lab.hosts.server]);
    assert.equal(left.stdout.trim(), "", "the target process was ended");
  } finally {
    await lab.teardown();
  }
});

Deno.test("startTarget names the port a target listens on when it is not the one it said", async () => {
  const lab = await createLab();
  try {
    const target = shellTarget(
      "elsewhere",
      `echo listening on 7071 >&2; exec python3 -c "import socket,time; s=socket.socket(); ` +
        `s.bind(('0.0.0.0', 7071)); s.listen(); time.sleep(30)"`,
    );
    // 5 s: python listens within a fraction of that even on a busy machine.
    const error = await startFailure(startTarget(target, lab, "v4", { readyTimeoutMs: 5000 }));
    includes(
      error.message,
      '"elsewhere" did not listen on port "7070" within "5000" ms (it listens on port "7071" instead)',
    );
    includes(error.message, "; its last lines:\nlistening on 7071");
  } finally {
    await lab.teardown();
  }
});

Deno.test("startTarget runs setup commands as root in the lab directory before the server starts; a failing one is the target's error", async () => {
  const lab = await createLab();
  try {
    const base = shellTarget("setup", "ls data >&2; exec sleep 30");
    const target = defineTarget({
      ...base,
      start: (context) => ({
        ...base.start(context),
        setup: [["mkdir", "data"], ["touch", "data/made-before-start"]],
      }),
    });
    const error = await startFailure(startTarget(target, lab, "v4", { readyTimeoutMs: 300 }));
    includes(error.logTail, "made-before-start", "setup ran first, in the lab directory");
    const failing = defineTarget({
      ...base,
      start: (context) => ({ ...base.start(context), setup: [["false"]] }),
    });
    const failed = await startFailure(startTarget(failing, lab, "v4"));
    includes(failed.message, 'Target "setup" could not be set up: Command failed with exit code 1');
  } finally {
    await lab.teardown();
  }
});
