/**
 * The live parts of one running scenario that steps act on: the lab, the server, the client
 * agent, the connection under test and the faults in place. Steps read it and return records
 * of what they did; only the observers' own records (the socket watch, the options read)
 * are written here, by the step that starts them.
 *
 * @module
 */

import type { ClientAgent } from "../client/client_agent.ts";
import type { FaultDone } from "../faults/fault.ts";
import type { Family } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import type { ConnectionRecord, ExchangeRecord } from "../observe/observations.ts";
import type { SocketWatch } from "../observe/socket_watch.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import type { RunningTarget } from "../target/start_target.ts";
import type { TimePlan } from "./time_plan.ts";

/** A step or the harness could not go on: the scenario ends with verdict `error`. */
export class HarnessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HarnessError";
  }
}

/** The scenario cannot apply to this target (e.g. its protocol has no large response): skip. */
export class NotApplicable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotApplicable";
  }
}

/** What steps share while a scenario runs. */
export interface ScenarioContext {
  lab: Lab;
  target: TargetDefinition;
  server: RunningTarget;
  family: Family;
  agent: ClientAgent;
  plan: TimePlan;
  /** Aborted when the run is interrupted: steps stop waiting. */
  signal: AbortSignal;
  /** The socket watch's and the options reader's record of the connection under test. */
  connection: ConnectionRecord;
  /** What exchanges on the connection found (the response read, churn counts). */
  exchanges: ExchangeRecord;
  /** The connection under test, once connected. */
  conn?: number;
  /** The address the server sees the client at (the NAT's public one behind a NAT). */
  clientAddressSeen: string;
  watch?: SocketWatch;
  /** Faults in place that `heal` can undo, most recent last. */
  undoable: NonNullable<FaultDone["undo"]>[];
  /** A NAT's established-connection timeout and stray policy, once one is in place. */
  natTimeoutMs?: number;
  natStrays?: "rst" | "drop";
  /** A read left running by `keep-reading`. */
  background?: Promise<unknown>;
}
