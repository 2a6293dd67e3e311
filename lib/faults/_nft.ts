/**
 * Each fault's rules live in a table of their own in one namespace (the router), so faults
 * compose. A fault that takes the client down wakes a table the lab loaded dormant at build
 * (lib/lab/fault_tables.ts), and undoing it puts the table back to sleep: no process starts
 * on its way. Faults set up before the client goes down (a NAT, shaping) load a table of
 * their own and delete it to undo.
 *
 * @module
 */

import type { FaultTableName } from "../lab/fault_tables.ts";
import type { Lab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import { run } from "../process/spawn.ts";

/** A fault table woken: when it was asked for, when it acted, and how to undo it. */
export interface Woken {
  /** Monotonic ms just before the system call that woke it. */
  sentAt: number;
  /** Monotonic ms just after it returned: the rules acted from then on at the latest. */
  t: number;
  /** Puts the table back to sleep; resolves with the monotonic ms. Undoes once. */
  undo: () => Promise<number>;
}

/** Wakes one of the lab's dormant fault tables. */
export function wakeTable(lab: Lab, table: FaultTableName): Woken {
  const tables = lab.faultTables;
  const { sentAt, doneAt } = tables.wake(table);
  return {
    sentAt,
    t: doneAt,
    undo: once(() => Promise.resolve(tables.sleep(table)?.doneAt ?? monotonicMs())),
  };
}

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
