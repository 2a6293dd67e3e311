/**
 * `doctor`: what the lab can do on this machine, each item yes or no with the reason:
 * privileges, the programs the lab drives, and the kernel features faults rely on (probed
 * for real in a scratch namespace). A missing feature is reported, never an error: the
 * scenarios that need it are skipped.
 *
 * Permissions: --allow-run --allow-read --allow-write --allow-env --allow-ffi.
 *
 * @module
 */

import { capabilities, CAPABILITY_NAMES } from "../faults/capabilities.ts";
import { onPath } from "../process/spawn.ts";
import { inUserNamespace, isRoot } from "../process/privilege.ts";
import { userNamespaceRefusal } from "../lab/user_namespace.ts";
import { LAB_PROGRAMS } from "../setup/lab_packages.ts";
import { table } from "../report/markdown_parts.ts";

/** One line of the doctor's table. */
export interface DoctorCheck {
  section: "privileges" | "programs" | "features";
  check: string;
  ok: boolean;
  detail: string;
}

function userNamespaces(): DoctorCheck {
  let max = 0;
  try {
    max = Number(Deno.readTextFileSync("/proc/sys/user/max_user_namespaces").trim());
  } catch {
    // no such sysctl: no user namespaces
  }
  return {
    section: "privileges",
    check: "user namespaces",
    ok: max > 0,
    detail: max > 0
      ? `max_user_namespaces ${max} (not needed when root)`
      : "disabled in this kernel",
  };
}

/** Every check, in the order the table shows them. */
export async function doctorChecks(): Promise<DoctorCheck[]> {
  const root = isRoot();
  const rootless = inUserNamespace();
  const checks: DoctorCheck[] = [
    {
      section: "privileges",
      check: "root",
      ok: root || rootless,
      detail: root
        ? "network namespaces can be created"
        : rootless
        ? "not root: labs are made in a user namespace of the run's own (rootless)"
        : "labs need root, or user namespaces the kernel lets an ordinary user make",
    },
    userNamespaces(),
  ];
  for (const p of LAB_PROGRAMS) {
    const path = onPath(p.binary);
    checks.push({
      section: "programs",
      check: `${p.binary} (${p.debianPackage})`,
      ok: path !== undefined,
      detail: path
        ? `${path}: ${p.purpose}`
        : `missing: apt-get install ${p.debianPackage} (${p.purpose})`,
    });
  }
  if (!root && !rootless) return checks;
  const probed = await capabilities();
  for (const name of CAPABILITY_NAMES) {
    checks.push({
      section: "features",
      check: name,
      ok: probed[name].supported,
      detail: probed[name].reason,
    });
  }
  return checks;
}

/** Prints the table; exits 0 unless the lab cannot run at all (not root, or a required program missing). */
export async function doctor(): Promise<number> {
  const checks = await doctorChecks();
  const titles = {
    privileges: "Privileges",
    programs: "Programs",
    features: "Features (each tried for real in a scratch namespace)",
  };
  for (const [section, title] of Object.entries(titles)) {
    const rows = checks.filter((c) => c.section === section);
    if (!rows.length) continue;
    console.log(
      `${title}\n\n${
        table(["check", "ok", "detail"], rows.map((c) => [c.check, c.ok ? "yes" : "no", c.detail]))
      }\n`,
    );
  }
  const required = new Set([
    "root",
    ...LAB_PROGRAMS.filter((p) => p.required).map((p) => p.binary),
  ]);
  const blocking = checks.filter((c) => required.has(c.check) && !c.ok);
  if (!isRoot()) console.log(await rootlessVerdict());
  if (blocking.length) {
    console.error(`The lab cannot run here: ${blocking.map((c) => c.check).join(", ")} missing`);
    return 3;
  }
  return 0;
}

/** The doctor's last line for an ordinary user: whether rootless labs work here, and why not. */
async function rootlessVerdict(): Promise<string> {
  const refusal = inUserNamespace() ? undefined : await userNamespaceRefusal();
  if (refusal) return `Rootless labs do not work here: ${refusal}`;
  const missing = LAB_PROGRAMS.filter((p) => p.required && !onPath(p.binary));
  if (missing.length) {
    return `Rootless labs do not work here: ${missing.map((p) => p.binary).join(", ")} ` +
      `missing, which only root can install: run \`sudo deno task setup\` once`;
  }
  return "Rootless labs work here: the targets that run as your own user (see list) need no root";
}
