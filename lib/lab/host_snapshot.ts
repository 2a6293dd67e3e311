/**
 * A snapshot of the host's own network configuration (the root namespace): links, routes,
 * rules and firewall rulesets. A run of clientdown must leave it byte-for-byte as it was.
 *
 * @module
 */

import { onPath, run } from "../process/spawn.ts";

/** Command → its normalised output. */
export type HostSnapshot = Record<string, string>;

const COMMANDS: readonly (readonly string[])[] = [
  ["ip", "link"],
  ["ip", "-4", "route", "show", "table", "all"],
  ["ip", "-6", "route", "show", "table", "all"],
  ["ip", "-4", "rule"],
  ["ip", "-6", "rule"],
  ["nft", "list", "ruleset"],
  ["iptables-save"],
  ["ip6tables-save"],
];

// iptables-save stamps a date in comments and packet counters on chains: neither is configuration.
function normalise(text: string): string {
  return text.split("\n")
    .filter((line) => !line.startsWith("#"))
    .map((line) => line.replace(/\[\d+:\d+\]/g, "[counters]"))
    .join("\n");
}

/** Reads the host's configuration; commands that are not installed are left out. */
export async function snapshotHost(): Promise<HostSnapshot> {
  const snapshot: HostSnapshot = {};
  for (const argv of COMMANDS) {
    if (!onPath(argv[0] ?? "")) continue;
    snapshot[argv.join(" ")] = normalise((await run(argv)).stdout);
  }
  return snapshot;
}

/** The commands whose output differs between two snapshots, with both outputs. */
export function diffSnapshots(
  before: HostSnapshot,
  after: HostSnapshot,
): { command: string; before: string; after: string }[] {
  return Object.keys({ ...before, ...after })
    .filter((command) =>
      command in before && command in after && before[command] !== after[command]
    )
    .map((command) => ({ command, before: before[command] ?? "", after: after[command] ?? "" }));
}
