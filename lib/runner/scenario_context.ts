/**
 * The live parts of one running scenario that steps act on: the lab, the server, the client
 * agent, the connection under test and the faults in place. Only the runner changes it, from
 * what steps return; it holds no observation (observers and steps return theirs, and the
 * runner assembles them once: observed.ts).
 *
 * @module
 */

import type { StepDone } from "../actions/action.ts";
import type { ClientAgent } from "../client/client_agent.ts";
import type { Family } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import type { SocketEntry } from "../observe/proc_net_tcp.ts";
import type { SocketWatch } from "../observe/socket_watch.ts";
import type { TargetDefinition } from "../target/define_target.ts";
import type { RunningTarget } from "../target/start_target.ts";
import type { TimePlan } from "./time_plan.ts";

/** What steps share while a scenario runs. */
export interface ScenarioContext {
  readonly lab: Lab;
  readonly target: TargetDefinition;
  readonly server: RunningTarget;
  readonly family: Family;
  readonly agent: ClientAgent;
  readonly plan: TimePlan;
  /** Aborted when the run is interrupted: steps stop waiting. */
  readonly signal: AbortSignal;
  /** The connection under test and its client port, once connected. */
  conn?: number;
  clientPort?: number;
  /** The address the server sees the client at (the NAT's public one behind a NAT). */
  clientAddressSeen: string;
  /** The socket watch over the connection under test, once connected. */
  watch?: SocketWatch;
  /** The server's socket of the connection under test, looked up now, once connected. */
  serverSocket?: () => SocketEntry | undefined;
  /** Faults in place that `heal` can undo, most recent last. */
  undoable: NonNullable<StepDone["undo"]>[];
  /** A NAT's established-connection timeout and stray policy, once one is in place. */
  natTimeoutMs?: number;
  natStrays?: "rst" | "drop";
  /** A read left running by `keep-reading`. */
  background?: Promise<unknown>;
}
