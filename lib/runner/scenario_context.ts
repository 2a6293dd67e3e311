/**
 * The live parts of one running scenario that steps act on: the lab, the server, the client
 * agent, the connection under test and the faults in place.
 *
 * @module
 */

import type { ClientAgent } from "../client/client_agent.ts";
import type { Family } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import type { SocketWatch } from "../observe/socket_watch.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import type { RunningTarget } from "../target/start_target.ts";
import type { Observations } from "./observations.ts";

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
  deadlineMs: number;
  obs: Observations;
  /** The connection under test, once connected. */
  conn?: number;
  /** The client's port of that connection. */
  localPort?: number;
  /** The address the server sees the client at (the NAT's public one behind a NAT). */
  clientAddressSeen: string;
  watch?: SocketWatch;
  /** Undo of the fault `heal` removes (vanish, ICMP unreachable). */
  healable?: (() => Promise<number>) | undefined;
  /** A read left running by `keep-reading`. */
  background?: Promise<unknown>;
}
