import assert from "node:assert/strict";
import { defineTarget, type TargetDefinition } from "./define_target.ts";
import { builtInTargets } from "../cli/load_target.ts";
import { summaryLines } from "../cli/test_task.ts";
import { ensureTargetPackages, installBlocker } from "./target_packages.ts";
import { missingPackages } from "./ensure_installed.ts";

function fake(binary: string, debianPackage: string): TargetDefinition {
  return defineTarget({
    id: "fake",
    title: "fake",
    install: { binary, debianPackage },
    port: 7,
    start: () => ({ argv: [binary] }),
    protocol: { request: { send: "a", until: "b" }, partialRequest: "a" },
  });
}

Deno.test("a server that is installed, or that declares nothing to install, blocks nothing", () => {
  assert.equal(installBlocker(fake("sh", "dash")), undefined);
  const { install: _, ...bare } = fake("sh", "dash");
  assert.equal(installBlocker(bare), undefined);
});

Deno.test("a package apt's sources do not have blocks its target, and says so", async () => {
  const target = fake("clientdown-no-such-server", "clientdown-no-such-package");
  const reason = installBlocker(target);
  assert.match(
    reason ?? "",
    /^"clientdown-no-such-server" is missing and (apt's sources have no installable|only root can install|there is no apt-get to install) "clientdown-no-such-package"$/,
  );
  // Nothing to install for an installed target; the missing package is reported, not thrown.
  const { installed, unavailable } = await ensureTargetPackages([fake("sh", "dash")]);
  assert.deepEqual([installed, unavailable], [[], []]);
});

Deno.test("what a target also needs counts: its own program installed does not make it installed", () => {
  const base = fake("sh", "dash");
  const fronting: TargetDefinition = {
    ...base,
    install: {
      binary: "sh",
      debianPackage: "dash",
      alsoNeeds: [{ binary: "clientdown-no-such-backend", debianPackage: "clientdown-no-such-db" }],
    },
  };
  assert.match(
    installBlocker(fronting) ?? "",
    /^"clientdown-no-such-backend" is missing and (apt's sources have no installable|only root can install|there is no apt-get to install) "clientdown-no-such-db"$/,
  );
});

Deno.test("every built-in target declares its Debian package or nothing to install", async () => {
  const targets = await builtInTargets();
  assert.ok(targets.length >= 16, `${targets.length} built-in targets`);
  for (const target of targets) {
    if (!target.install) continue;
    assert.match(target.install.debianPackage, /^[a-z0-9][a-z0-9+.-]+$/, target.id);
  }
});

Deno.test("the test task's last lines name each skipped target and its reason", () => {
  assert.deepEqual(summaryLines(23, [], 0, []), [
    "Target tests: the servers of all 23 built-in targets are installed; none was skipped for lack of a server",
  ]);
  assert.deepEqual(
    summaryLines(23, ["nginx", "h2o"], 28_700, [{ target: "x", reason: "no apt-get" }]),
    [
      "Installed 2 target server packages in 29 s: nginx h2o",
      "Target tests skipped: 1 of 23 targets, whose server this machine cannot have:",
      "  x: no apt-get",
    ],
  );
});

Deno.test("install.binary may be the path of a file the package installs, not only a program", () => {
  assert.deepEqual(missingPackages(fake("/etc/os-release", "base-files")), []);
  const absent = fake("/usr/lib/python3/dist-packages/no_such_module/__init__.py", "python3-x");
  assert.deepEqual(missingPackages(absent).map((p) => p.debianPackage), ["python3-x"]);
});
