/**
 * The one place a scenario's observations are put together: from what each observer returned
 * when it stopped (the socket watch, the packet capture, the bystander, the server's samples)
 * and what each step returned, once the scenario is over. Nothing writes into the record
 * while the scenario runs.
 *
 * @module
 */

import type { Captured } from "../observe/capture.ts";
import type {
  ConnectionRecord,
  ExchangeRecord,
  LivenessSample,
  Observations,
  RunRecord,
  ServerRecord,
  StepRecord,
} from "../observe/observations.ts";
import type { HarnessFigures } from "../results/schema.ts";

/** What setting the scenario up learned, as far as it got. */
export interface SetupRecord {
  /** Harness overhead: the lab up, the target ready (teardown is the teardown's). */
  harness: Pick<HarnessFigures, "labUpMs" | "targetReadyMs">;
  sysctls?: ConnectionRecord["sysctls"];
  kernelHz?: number;
  /** Why there is no packet capture, when there is none. */
  noCapture?: string;
  /** How long the bystander gives each exchange, when one probes. */
  bystanderTimeoutMs?: number;
}

/** What ending the scenario's helpers gave back. */
export interface TeardownRecord {
  ms: number;
  /** The capture's packets, when a capture ran and ended. */
  captured?: Captured;
  /** The bystander's exchanges, when one probed. */
  bystander?: LivenessSample[];
  /** The last lines of the server's log. */
  log?: string;
  /** Something went wrong while ending the helpers. */
  note?: string;
}

/** Everything the runner gathered from its observers and steps. */
export interface Gathered {
  deadlineMs: number;
  setup: SetupRecord;
  /** The runner's own moments and outcome (harness figures come from setup and teardown). */
  run: Omit<RunRecord, "harness" | "teardownNote" | "deadlineMs">;
  /** Every step's records in order, the survival check's exchange last. */
  steps: StepRecord[];
  /** What the steps and the survival check learned on the connection. */
  exchanges: ExchangeRecord;
  /** The connection under test: its port, the options read last, the socket watch's events. */
  connection: Pick<ConnectionRecord, "clientPort" | "options" | "socket">;
  /** The server's samples, its exit during the scenario, its stderr. */
  server: Omit<ServerRecord, "log">;
  teardown: TeardownRecord;
}

/** The note on a capture that is missing or incomplete, for the reader, not the verdict. */
function captureNote(setup: SetupRecord, captured: Captured | undefined): string | undefined {
  if (captured?.droppedByKernel) {
    return `The packet capture is incomplete: the kernel dropped ${captured.droppedByKernel} packet(s) before tcpdump read them.`;
  }
  return setup.noCapture === undefined ? undefined : `No packet capture: ${setup.noCapture}`;
}

/**
 * The scenario's observations, built once from what was gathered.
 *
 * @example
 * ```ts ignore
 * const obs = assembleObservations(gathered);
 * evaluate(scenario, obs, durationMs);
 * ```
 */
export function assembleObservations(g: Gathered): Observations {
  const { setup, teardown } = g;
  const captured = teardown.captured;
  const note = captureNote(setup, captured);
  return {
    run: {
      ...g.run,
      deadlineMs: g.deadlineMs,
      ...(teardown.note === undefined ? {} : { teardownNote: teardown.note }),
      harness: { ...setup.harness, teardownMs: teardown.ms },
    },
    steps: g.steps,
    connection: {
      ...g.connection,
      ...(setup.sysctls ? { sysctls: setup.sysctls } : {}),
      ...(setup.kernelHz === undefined ? {} : { kernelHz: setup.kernelHz }),
    },
    capture: {
      ...(captured
        ? {
          packets: captured.packets,
          unreachables: captured.unreachables,
          ...(captured.droppedByKernel === undefined
            ? {}
            : { droppedByKernel: captured.droppedByKernel }),
        }
        : {}),
      ...(note ? { note } : {}),
    },
    server: { ...g.server, ...(teardown.log ? { log: teardown.log } : {}) },
    ...(teardown.bystander ? { bystander: teardown.bystander } : {}),
    ...(setup.bystanderTimeoutMs === undefined
      ? {}
      : { bystanderTimeoutMs: setup.bystanderTimeoutMs }),
    exchanges: g.exchanges,
  };
}
