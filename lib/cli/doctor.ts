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

function userNamespaces(root: boolean): DoctorCheck {
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
      ? `max_user_namespaces ${max} (${
        root ? "not needed when root" : "what labs without root use"
      })`
      : "disabled in this kernel",
  };
}

/** What the doctor looks at; tests replace some (default: this machine). */
export interface DoctorDeps {
  /** Where a program is on PATH, or undefined (default: onPath). */
  lookup?: (program: string) => string | undefined;
  /** Whether this process is root (default: isRoot). */
  root?: boolean;
  /** Writes the tables (default: standard output). */
  out?: (text: string) => void;
  /** Writes the verdict line (default: standard error). */
  err?: (text: string) => void;
}

/** Every check, in the order the table shows them. */
export async function doctorChecks(deps: DoctorDeps = {}): Promise<DoctorCheck[]> {
  const root = deps.root ?? isRoot();
  const rootless = inUserNamespace();
  const lookup = deps.lookup ?? onPath;
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
    userNamespaces(root),
  ];
  for (const p of LAB_PROGRAMS) {
    const path = lookup(p.binary);
    checks.push({
      section: "programs",
      check: `${p.binary} (${p.debianPackage})`,
      ok: path !== undefined,
      detail: path ? `${path}: ${p.purpose}` : `missing (${p.purpose})`,
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

/** The command that installs the lab's programs, as a newcomer runs it. */
export const SETUP_COMMAND = "npx -y deno@2.9.6 task setup";

/** The lab's programs the checks found missing. */
function missingPrograms(checks: readonly DoctorCheck[]): typeof LAB_PROGRAMS {
  const missing = new Set(checks.filter((c) => !c.ok).map((c) => c.check));
  return LAB_PROGRAMS.filter((p) => missing.has(`${p.binary} (${p.debianPackage})`));
}

/**
 * The doctor's last line: whether the lab can run, and when programs are missing, the one
 * command that installs them all (certify and test also do it on first use).
 */
export function verdictLine(checks: readonly DoctorCheck[]): { line: string; canRun: boolean } {
  const failed = (check: string) => checks.some((c) => c.check === check && !c.ok);
  const missing = missingPrograms(checks);
  const blocking = [
    ...(failed("root") ? ["root"] : []),
    ...missing.filter((p) => p.required).map((p) => p.binary),
  ];
  const packages = [...new Set(missing.map((p) => p.debianPackage))].join(" ");
  const sudo = failed("root") ? "sudo " : "";
  const install = missing.length
    ? `; "${sudo}${SETUP_COMMAND}" installs ${packages} (certify and test install them on ` +
      "first use too)"
    : failed("root")
    ? "; run it as root (sudo)"
    : "";
  if (blocking.length) {
    return {
      line: `The lab cannot run here: ${blocking.join(", ")} missing${install}`,
      canRun: false,
    };
  }
  const optional = missing.map((p) => p.binary).join(", ");
  return {
    line: missing.length
      ? `The lab can run here, without ${optional} (what needs it is skipped)${install}`
      : "The lab can run here",
    canRun: true,
  };
}

/**
 * Prints the table, then one line: whether the lab can run and what installs what is missing.
 * Exits 0 when the lab can run, 3 when it cannot (not root, or a required program missing).
 */
export async function doctor(deps: DoctorDeps = {}): Promise<number> {
  const out = deps.out ?? ((text: string) => console.log(text.replace(/\n$/, "")));
  const err = deps.err ?? ((text: string) => console.error(text.replace(/\n$/, "")));
  const checks = await doctorChecks(deps);
  const titles = {
    privileges: "Privileges",
    programs: "Programs",
    features: "Features (each tried for real in a scratch namespace)",
  };
  for (const [section, title] of Object.entries(titles)) {
    const rows = checks.filter((c) => c.section === section);
    if (!rows.length) continue;
    out(
      `${title}\n\n${
        table(["check", "ok", "detail"], rows.map((c) => [c.check, c.ok ? "yes" : "no", c.detail]))
      }\n\n`,
    );
  }
  const { line, canRun } = verdictLine(checks);
  if (deps.root ?? isRoot()) {
    err(`${line}\n`);
    return canRun ? 0 : 3;
  }
  // An ordinary user: the lab's line, then whether rootless labs work here, last.
  const rootless = await rootlessVerdict(checks);
  err(`${line}\n`);
  out(`${rootless.line}\n`);
  return canRun && rootless.works ? 0 : 3;
}

/** The doctor's last line for an ordinary user: whether rootless labs work here, and why not. */
async function rootlessVerdict(
  checks: readonly DoctorCheck[],
): Promise<{ line: string; works: boolean }> {
  const refusal = inUserNamespace() ? undefined : await userNamespaceRefusal();
  if (refusal) return { line: `Rootless labs do not work here: ${refusal}`, works: false };
  const missing = missingPrograms(checks).filter((p) => p.required);
  if (missing.length) {
    return {
      line: `Rootless labs do not work here: ${missing.map((p) => p.binary).join(", ")} ` +
        `missing, which only root can install: run \`sudo deno task setup\` once`,
      works: false,
    };
  }
  return {
    line: "Rootless labs work here: the targets that run as your own user (see list) need no root",
    works: true,
  };
}
