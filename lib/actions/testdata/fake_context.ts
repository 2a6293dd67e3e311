/**
 * A step context whose client agent answers from a script: the actions' own logic (which
 * call, which record, what is learned) tested without a lab. What the calls do on the wire is
 * the client agent's, tested against the real kernel in lib/client/.
 */

import type { Lab } from "../../lab/lab.ts";
import type { TargetDefinition } from "../../target/define_target.ts";
import type { RunningTarget } from "../../target/start_target.ts";
import type { StepAgent, StepContext } from "../action.ts";

/** One call the fake agent received. */
export interface Call {
  op: keyof StepAgent;
  args: unknown[];
}

type Answers = { [O in keyof StepAgent]?: (...args: Parameters<StepAgent[O]>) => unknown };

/** What the fake agent answers unless a test says otherwise. */
const DEFAULTS: Required<Answers> = {
  connect: () => ({ ok: true, t: 10, conn: 7, local: { address: "192.0.2.2", port: 40000 } }),
  send: () => ({ ok: true, t: 11, bytes: 5 }),
  read: () => ({ ok: true, t: 12, bytes: 5, found: true, eof: false, head: "PONG\n" }),
  stopReading: () => ({ ok: true, t: 13 }),
  halfClose: () => ({ ok: true, t: 13 }),
  close: () => ({ ok: true, t: 13 }),
  abort: () => ({ ok: true, t: 13 }),
  crash: () => 14,
  freeze: () => 15,
  thaw: () => 16,
};

/** A target with the exchanges the actions use. */
export const TARGET = {
  id: "fake",
  protocol: {
    request: { send: "PING\n", until: "PONG\n" },
    partialRequest: "PI",
    largeRequest: { send: "BIG\n", responseBytes: 1_000_000 },
  },
} as unknown as TargetDefinition;

/** A target whose protocol has no request with a large response. */
export const NO_LARGE_TARGET = {
  ...TARGET,
  protocol: { request: TARGET.protocol.request, partialRequest: TARGET.protocol.partialRequest },
} as TargetDefinition;

/** A step context over a scripted agent; `calls` lists what the action asked of it. */
export function fakeContext(
  options: { answers?: Answers; context?: Partial<StepContext> } = {},
): { ctx: StepContext; calls: Call[]; connected: [number, number][] } {
  const calls: Call[] = [];
  const connected: [number, number][] = [];
  const answers = { ...DEFAULTS, ...options.answers };
  const agent = Object.fromEntries(
    Object.keys(DEFAULTS).map((op) => [op, (...args: unknown[]) => {
      calls.push({ op: op as keyof StepAgent, args });
      return Promise.resolve(
        (answers[op as keyof StepAgent] as (...a: unknown[]) => unknown)(...args),
      );
    }]),
  ) as unknown as StepAgent;
  const ctx: StepContext = {
    lab: {} as Lab,
    target: TARGET,
    server: { address: "198.51.100.2", port: 7000, pid: 1 } as RunningTarget,
    agent,
    signal: new AbortController().signal,
    scenarioMs: 60_000,
    conn: 7,
    clientPort: 40000,
    natStrays: undefined,
    background: undefined,
    connected: (conn, port) => {
      connected.push([conn, port]);
      return Promise.resolve();
    },
    undoLast: () => Promise.reject(new Error("nothing to undo")),
    ...options.context,
  };
  return { ctx, calls, connected };
}
