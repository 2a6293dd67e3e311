/**
 * Names of labs: `cd-<run>-<n>-{cli,rtr,srv}`. The run id is short (base 36 of the owner
 * pid plus two random characters) so names stay readable in `ip netns list`.
 *
 * @module
 */

/**
 * The three hosts of a lab; the scratch namespace of the capability probe; and a run's base
 * namespace, from which lab namespaces are created (see base_namespace.ts).
 */
export type HostRole = "cli" | "rtr" | "srv" | "prb" | "bas";

const NAME = /^cd-([0-9a-z]+)-(\d+)-(cli|rtr|srv|prb|bas)$/;

let currentRun: string | undefined;

/** This process's run id, made once. */
export function runId(): string {
  currentRun ??= Deno.pid.toString(36) +
    Math.floor(Math.random() * 36 * 36).toString(36).padStart(2, "0");
  return currentRun;
}

/** The namespace name of one host of a lab. */
export function netnsName(run: string, index: number, role: HostRole): string {
  return `cd-${run}-${index}-${role}`;
}

/** Splits a namespace name made by netnsName, or undefined for any other name. */
export function parseNetnsName(
  name: string,
): { run: string; index: number; role: HostRole } | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  return { run: match[1] ?? "", index: Number(match[2]), role: match[3] as HostRole };
}
