/**
 * Labs without root. An ordinary user's run re-executes itself inside namespaces it owns
 * (`unshare --user --net --mount --pid`), keeping its own uid with every capability of its user
 * namespace, ambient so that every program it starts has them too: `ip netns`, veth, nft, tc,
 * tcpdump, `pidfd_getfd` and the namespaces' sysctls then work as for root, on namespaces only
 * that user namespace owns. The host's own network, mounts and processes stay out of its reach.
 *
 * The uid is not mapped to 0 (`--map-root-user`): a program that sees uid 0 drops privileges as
 * it would on the host, and tcpdump's `initgroups` then fails, as `setgroups` is denied in a
 * user namespace an unprivileged user makes. Seeing its own uid, tcpdump keeps its
 * capabilities and captures.
 *
 * Inside, a small init (pid 1 of the run's PID namespace) mounts a private tmpfs over
 * /run/netns (over /run first when /run/netns does not exist, as the user cannot create it)
 * and over the state directory, runs the command and passes the stop signals on to it. When
 * the run ends, however it ends (SIGKILL of the command or of the process that started it
 * included), the kernel ends every process of the PID namespace and with them the namespaces
 * and the tmpfs: a rootless run leaves nothing for a sweep, and nothing of it is visible to
 * another user's or root's sweep.
 *
 * Only the user's own uid is mapped: a server that switches to another user cannot run there
 * (setuid fails with EINVAL). Ports below 1024 can be bound: the lab's namespaces belong to the
 * user namespace, where the run has CAP_NET_BIND_SERVICE.
 *
 * @module
 */

import { childrenOf } from "../process/process_tree.ts";
import { onPath, run, spawn } from "../process/spawn.ts";
import { stateDir } from "./state_dir.ts";

const NAMESPACES = [
  "--user",
  "--map-current-user",
  "--keep-caps",
  "--net",
  "--mount",
  "--pid",
  "--fork",
];

// $1 the state directory, then the command. Mounts it cannot make are a harness error (3).
// `wait` returns early when a trapped signal arrives; the loop waits again until the command
// has exited, and exits with its status.
const INIT = `
fail() { echo "clientdown: Could not mount the rootless lab's $1" >&2; exit 3; }
[ -d /run/netns ] || { mount -t tmpfs -o mode=0755 clientdown /run && mkdir /run/netns; } ||
  fail /run
mount -t tmpfs -o mode=0755 clientdown /run/netns || fail /run/netns
mkdir -p "$1" && mount -t tmpfs -o mode=0700 clientdown "$1" || fail "state directory $1"
shift
"$@" & child=$!
for s in INT TERM HUP; do trap "kill -s $s $child" "$s"; done
while wait "$child"; status=$?; kill -0 "$child" 2>/dev/null; do :; done
exit "$status"`;

/** The argv that runs `command` in a rootless lab's namespaces, with `state` as its state directory. */
export function userNamespaceArgv(command: readonly string[], state: string): string[] {
  return [
    // Should this process die, unshare dies with it, and the kernel ends everything inside.
    "setpriv",
    "--pdeathsig",
    "SIGKILL",
    "unshare",
    ...NAMESPACES,
    "--mount-proc",
    "--kill-child",
    "sh",
    "-c",
    INIT,
    "clientdown-init",
    state,
    ...command,
  ];
}

/** The sysctls that can keep an ordinary user from making user namespaces. */
export const USER_NAMESPACE_SYSCTLS = [
  "kernel.unprivileged_userns_clone", // Debian's and Ubuntu's older kernels
  "kernel.apparmor_restrict_unprivileged_userns", // Ubuntu 23.10 and later
  "user.max_user_namespaces",
] as const;

/**
 * Why an unprivileged user namespace was refused, naming the sysctl that refuses it and what
 * to do, from the sysctls' values (absent when the kernel has no such sysctl) and unshare's
 * last words.
 */
export function refusalReason(
  sysctls: Readonly<Partial<Record<(typeof USER_NAMESPACE_SYSCTLS)[number], string>>>,
  complaint: string,
): string {
  const orRoot = "or run clientdown as root";
  const allow = (name: string, value: string) => `sudo sysctl ${name}=${value}, ${orRoot}`;
  if (sysctls["kernel.unprivileged_userns_clone"] === "0") {
    return `the kernel refuses unprivileged user namespaces ` +
      `(kernel.unprivileged_userns_clone = 0): ${allow("kernel.unprivileged_userns_clone", "1")}`;
  }
  if (sysctls["kernel.apparmor_restrict_unprivileged_userns"] === "1") {
    return `AppArmor refuses unprivileged user namespaces ` +
      `(kernel.apparmor_restrict_unprivileged_userns = 1): ` +
      allow("kernel.apparmor_restrict_unprivileged_userns", "0");
  }
  if (sysctls["user.max_user_namespaces"] === "0") {
    return `user namespaces are off (user.max_user_namespaces = 0): ` +
      allow("user.max_user_namespaces", "15000");
  }
  return `unshare could not make a user namespace (${complaint}), ${orRoot}`;
}

/**
 * Why this machine refuses a rootless lab, naming the sysctl and what to do; undefined when an
 * unprivileged user namespace with its own network, mount and PID namespaces can be made.
 */
export async function userNamespaceRefusal(): Promise<string | undefined> {
  if (!onPath("unshare")) return `"unshare" is missing: install the Debian package util-linux`;
  const tried = await run(["unshare", ...NAMESPACES, "--mount-proc", "true"], {
    accept: [...Array(256).keys()],
  });
  if (tried.code === 0) return undefined;
  const sysctls: Partial<Record<(typeof USER_NAMESPACE_SYSCTLS)[number], string>> = {};
  for (const name of USER_NAMESPACE_SYSCTLS) {
    try {
      sysctls[name] = Deno.readTextFileSync(`/proc/sys/${name.replaceAll(".", "/")}`).trim();
    } catch {
      // not in this kernel
    }
  }
  return refusalReason(sysctls, tried.stderr.trim().split("\n").at(-1) || `exit ${tried.code}`);
}

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs this command again (`Deno.mainModule` with `args`) in a rootless lab's namespaces, its
 * output on ours, and returns its exit code. A stop signal this process gets is passed on to
 * the init, which passes it to the command (`unshare` itself ignores SIGINT and SIGTERM).
 */
export async function runInUserNamespace(args: readonly string[]): Promise<number> {
  const command = [Deno.execPath(), "run", "--allow-all", new URL(Deno.mainModule).pathname];
  // An ordinary user's PATH often lacks the sbin directories, where ip, nft and tc are.
  const path = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);
  const child = spawn(userNamespaceArgv([...command, ...args], stateDir()), {
    env: { PATH: [...new Set([...path, "/usr/sbin", "/sbin"])].join(":") },
    stdout: "inherit",
    stderr: "inherit",
  });
  const forwarders = STOP_SIGNALS.map((signal) => {
    const forward = () => {
      for (const pid of childrenOf(child.pid)) {
        try {
          Deno.kill(pid, signal);
        } catch {
          // the init has exited
        }
      }
    };
    Deno.addSignalListener(signal, forward);
    return [signal, forward] as const;
  });
  try {
    return (await child.status).code; // 128 + the signal's number when one ended it
  } finally {
    for (const [signal, forward] of forwarders) Deno.removeSignalListener(signal, forward);
  }
}
