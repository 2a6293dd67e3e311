/**
 * `connect()`: opens the connection under test, then the target's greeting unless the step
 * says not to (a client that goes down before its first byte).
 *
 * @module
 */

import { EXCHANGE_MS, exchangeOn } from "../client/exchange.ts";
import type { StepRecord } from "../observe/observations.ts";
import { defineAction, HarnessError } from "./action.ts";
import type { StepOf } from "./step.ts";

/** The step `connect`: a small `rcvBuf` makes its window fill fast. */
export const connectAction = defineAction<"connect", StepOf<"connect">>({
  kind: "connect",
  summary: "the client opens the connection under test (and takes the target's greeting)",
  actor: "client",
  check: ({ rcvBuf }) =>
    rcvBuf !== undefined && !(rcvBuf > 0)
      ? { field: "rcvBuf", expected: "a positive number of bytes" }
      : undefined,
  run: async (ctx, { rcvBuf, greet }) => {
    const out = await ctx.agent.connect({
      address: ctx.server.address,
      port: ctx.server.port,
      ...(rcvBuf === undefined ? {} : { rcvBuf }),
      timeoutMs: EXCHANGE_MS,
    });
    if (!out.ok) throw new HarnessError(`Could not connect to the target: ${out.error}`);
    await ctx.connected(out.conn, out.local.port);
    const records: StepRecord[] = [
      { actor: "client", action: "connect", t: out.t, ok: true, traffic: true },
    ];
    const greeting = ctx.target.protocol.greeting;
    if (greet !== false && greeting) {
      const done = await exchangeOn(ctx.agent, out.conn, "greeting", greeting);
      if (!done.ok) throw new HarnessError(`The target did not answer its greeting: ${done.error}`);
      records.push(done);
    }
    return { records };
  },
});
