/**
 * A process that is a built-in target (its binary is the one a target file installs): the
 * published report of that target, and the settings of its published variants that let go of a
 * dead client sooner than its default configuration, with the figures the reports measured.
 * Read from the results files only (`reports/<id>.json`).
 *
 * @module
 */

import { basename } from "node:path";
import type { Results, ScenarioResult } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import type { Inspection } from "./inspection_schema.ts";

/** A built-in target as inspect matches it: its id and the binary it runs. */
export interface TargetBinary {
  id: string;
  binary: string;
}

/** What the card says of a known target. */
export type KnownTarget = NonNullable<Inspection["card"]["knownTarget"]>;

/** The scenarios the card compares, in the README's findings' words. */
const CASES = [
  ["vanish/idle", "idle dead client"],
  ["vanish/mid-response", "mid-response dead client"],
  ["freeze/stops-reading", "frozen reader"],
] as const;

/** When the scenario's connection was released, ms after the fault (Infinity: never seen). */
function releaseMs(result: ScenarioResult | undefined): number | undefined {
  if (!result || result.verdict === "skip") return undefined;
  return result.measurements.releaseMs ?? result.prediction?.atMs ?? Infinity;
}

function words(ms: number): string {
  return ms === Infinity ? "never seen" : formatMs(ms);
}

/**
 * The built-in target process `exe` (or, unreadable, `name`: /proc/PID/comm) runs, with its
 * report in `reportsDir` and the variants there that release sooner; undefined when it is none
 * of `targets` or has no published report there. The card links it as `reports/<id>.md`.
 *
 * @example
 * ```ts ignore
 * knownTarget("/usr/bin/redis-server", "redis-server", [{ id: "redis", binary: "redis-server" }], "reports");
 * ```
 */
export function knownTarget(
  exe: string | undefined,
  name: string,
  targets: readonly TargetBinary[],
  reportsDir: string,
): KnownTarget | undefined {
  const program = exe ? basename(exe.replace(/ \(deleted\)$/, "")) : name;
  const target = targets.find((t) => t.binary === program || t.binary.slice(0, 15) === name);
  if (!target) return undefined;
  const read = (file: string): Results | undefined => {
    try {
      return JSON.parse(Deno.readTextFileSync(`${reportsDir}/${file}`));
    } catch {
      return undefined;
    }
  };
  const base = read(`${target.id}.json`);
  if (!base) return undefined;
  const variants = [...Deno.readDirSync(reportsDir)]
    .map((e) => e.name)
    .filter((f) => f.startsWith(`${target.id}@`) && f.endsWith(".json"))
    .sort()
    .flatMap((f) => read(f) ?? []);
  const by = (r: Results, id: string) => r.scenarios.find((s) => s.id === id);
  const sooner = variants.flatMap((variant) => {
    const faster = CASES.flatMap(([id, what]) => {
      const was = releaseMs(by(base, id)), now = releaseMs(by(variant, id));
      return was !== undefined && now !== undefined && now < was
        ? [`${what} released after ${words(now)} instead of ${words(was)}`]
        : [];
    });
    if (!faster.length) return [];
    const knobs = Object.entries(variant.target.knobs ?? {})
      .filter(([knob, value]) => base.target.knobs?.[knob] !== value)
      .map(([knob, value]) => `${knob} ${value}`);
    return [{
      variant: variant.target.id,
      what: `${knobs.length ? `${knobs.join("; ")}: ` : ""}${faster.join(", ")}`,
    }];
  });
  return {
    id: target.id,
    version: base.target.version,
    report: `reports/${target.id}.md`,
    sooner,
  };
}
