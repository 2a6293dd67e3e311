import assert from "node:assert/strict";
import { refusalReason, userNamespaceArgv } from "./user_namespace.ts";

Deno.test("a refused user namespace names the sysctl that refuses it and what to do", () => {
  assert.match(
    refusalReason({ "kernel.unprivileged_userns_clone": "0" }, "unshare: Operation not permitted"),
    /kernel\.unprivileged_userns_clone = 0\): sudo sysctl kernel\.unprivileged_userns_clone=1, or run clientdown as root$/,
  );
  assert.match(
    refusalReason(
      { "kernel.apparmor_restrict_unprivileged_userns": "1", "user.max_user_namespaces": "63000" },
      "unshare: write failed /proc/self/uid_map: Operation not permitted",
    ),
    /^AppArmor refuses .*kernel\.apparmor_restrict_unprivileged_userns = 1\): sudo sysctl kernel\.apparmor_restrict_unprivileged_userns=0/,
  );
  assert.match(
    refusalReason({ "user.max_user_namespaces": "0" }, "unshare: No space left on device"),
    /user\.max_user_namespaces = 0/,
  );
  // No sysctl says why: unshare's own words.
  assert.equal(
    refusalReason({ "user.max_user_namespaces": "63000" }, "unshare: cannot mount proc"),
    "unshare could not make a user namespace (unshare: cannot mount proc), or run clientdown as root",
  );
});

Deno.test("the rootless argv keeps the user's uid with its capabilities, and dies with its parent", () => {
  const argv = userNamespaceArgv(["deno", "run", "mod.ts"], "/home/u/.local/state/clientdown");
  assert.deepEqual(argv.slice(0, 4), ["setpriv", "--pdeathsig", "SIGKILL", "unshare"]);
  for (const flag of ["--user", "--map-current-user", "--keep-caps", "--net", "--mount", "--pid"]) {
    assert.ok(argv.includes(flag), flag);
  }
  assert.ok(!argv.includes("--map-root-user"), "tcpdump could not drop privileges");
  assert.deepEqual(argv.slice(-4), ["/home/u/.local/state/clientdown", "deno", "run", "mod.ts"]);
});
