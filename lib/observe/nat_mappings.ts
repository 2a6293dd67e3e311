/**
 * The router's NAT mappings as conntrack lists them: evidence of what the NAT remembers
 * (and for how long), read with `conntrack -L` in the router namespace. Needs the `conntrack`
 * tool: its caller checks the capability first (lib/faults/capabilities.ts).
 *
 * @module
 */

import { NAT_PUBLIC_V4 } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { run } from "../process/spawn.ts";

/** One direction of a conntrack entry. */
export interface FlowTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** One TCP conntrack entry. */
export interface NatMapping {
  /** conntrack's TCP state, e.g. `ESTABLISHED`. */
  state: string;
  /** Seconds until the entry expires unless a packet refreshes it. */
  timeoutS: number;
  /** As the client sent it (private source). */
  original: FlowTuple;
  /** As the server answers it (to the public address). */
  reply: FlowTuple;
  /** Whether conntrack has seen traffic both ways (`[ASSURED]`). */
  assured: boolean;
  /** The line as conntrack printed it. */
  line: string;
}

function tuple(fields: Map<string, string>[], index: number): FlowTuple {
  const f = fields[index] ?? new Map<string, string>();
  return {
    src: f.get("src") ?? "",
    dst: f.get("dst") ?? "",
    sport: Number(f.get("sport") ?? 0),
    dport: Number(f.get("dport") ?? 0),
  };
}

/** Parses the TCP lines of `conntrack -L` output; other lines are skipped. */
export function parseConntrackList(text: string): NatMapping[] {
  const mappings: NatMapping[] = [];
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== "tcp" || words.length < 5) continue;
    // Each tuple starts again at src=; the first is the original direction, the second the reply.
    const tuples: Map<string, string>[] = [];
    for (const word of words.slice(4)) {
      const [key = "", value = ""] = word.split("=", 2);
      if (key === "src") tuples.push(new Map());
      if (value) tuples.at(-1)?.set(key, value);
    }
    mappings.push({
      state: words[3] ?? "",
      timeoutS: Number(words[2]),
      original: tuple(tuples, 0),
      reply: tuple(tuples, 1),
      assured: words.includes("[ASSURED]"),
      line: line.trim(),
    });
  }
  return mappings;
}

/**
 * The TCP mappings to the NAT's public address in the router, now.
 *
 * @example
 * ```ts
 * import { readNatMappings } from "./nat_mappings.ts";
 * import { createLab } from "../lab/lab.ts";
 *
 * const lab = await createLab();
 * console.log(await readNatMappings(lab));
 * await lab.teardown();
 * ```
 */
export async function readNatMappings(lab: Lab): Promise<NatMapping[]> {
  const out = await run(["conntrack", "-L", "-p", "tcp", "--reply-dst", NAT_PUBLIC_V4], {
    netns: lab.hosts.router,
  });
  return parseConntrackList(out.stdout);
}
