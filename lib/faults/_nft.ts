/**
 * Each fault's rules live in a table of their own in one namespace (the router), so faults
 * compose and undoing one is deleting its table.
 *
 * @module
 */

import { monotonicMs } from "../libc/libc.ts";
import { run } from "../process/spawn.ts";

/** An nft table of one fault. */
export interface FaultTable {
  netns: string;
  family: "inet" | "ip";
  name: string;
}

/**
 * Loads the table with its chains in one transaction (all rules or none) and returns the
 * monotonic time it took effect; fails if the table already exists (the fault is in place).
 */
export async function createTable(table: FaultTable, body: string): Promise<number> {
  const { family, name } = table;
  await run(["nft", "-f", "-"], {
    netns: table.netns,
    input: `create table ${family} ${name}\ntable ${family} ${name} {\n${body}\n}\n`,
  });
  return monotonicMs();
}

/** Deletes the table and returns the monotonic time its rules stopped acting. */
export async function deleteTable(table: FaultTable): Promise<number> {
  await run(["nft", "delete", "table", table.family, table.name], { netns: table.netns });
  return monotonicMs();
}

/** Undoes once: later calls return the first call's time. */
export function once(undo: () => Promise<number>): () => Promise<number> {
  let done: Promise<number> | undefined;
  return () => done ??= undo();
}
