/**
 * `churn(clients, then)`: opens `clients` more connections, each with one exchange, then takes
 * them all down at once (resets, a vanished host, or a crashed client process). A connection
 * the server refuses or drops (its own connection limit) is a finding, counted, not a harness
 * failure.
 *
 * @module
 */

import { EXCHANGE_MS, exchangeOn } from "../client/exchange.ts";
import { FaultUnsupported } from "../faults/unsupported.ts";
import { vanish } from "../faults/vanish.ts";
import { monotonicMs } from "../libc/libc.ts";
import type { StepActor, StepRecord } from "../observe/observations.ts";
import { shown } from "../text/shown.ts";
import { defineAction, HarnessError, type StepContext, type StepDone } from "./action.ts";
import type { StepOf } from "./step.ts";

/** How the churned clients go down. */
type ChurnEnd = StepOf<"churn">["then"];

const ENDS: readonly ChurnEnd[] = ["abort", "vanish", "crash"];
const ACTOR: Record<ChurnEnd, StepActor> = {
  abort: "client",
  crash: "client-host",
  vanish: "router",
};
/** The most clients one churn opens. */
const MAX_CLIENTS = 2000;
/**
 * Connections opened, or reset, at a time: 500 SYNs at once would overflow a server's listen
 * backlog (often 128 or 511), and each dropped SYN costs a 1 s retransmission.
 */
const CHURN_BATCH = 50;

/** Opens up to `wanted` connections with one exchange each: their ids, and how many failed. */
async function open(ctx: StepContext, wanted: number): Promise<{ ids: number[]; refused: number }> {
  const ids: number[] = [];
  let refused = 0;
  for (let start = 0; start < wanted; start += CHURN_BATCH) {
    const batch = Array.from({ length: Math.min(CHURN_BATCH, wanted - start) }, async () => {
      const out = await ctx.agent.connect({
        address: ctx.server.address,
        port: ctx.server.port,
        timeoutMs: EXCHANGE_MS,
      });
      if (!out.ok) return refused++;
      const greeting = ctx.target.protocol.greeting;
      const greeted = greeting
        ? await exchangeOn(ctx.agent, out.conn, "churn greeting", greeting)
        : undefined;
      const done = greeted && !greeted.ok
        ? greeted
        : await exchangeOn(ctx.agent, out.conn, "churn exchange", ctx.target.protocol.request);
      if (!done.ok) return refused++;
      ids.push(out.conn);
    });
    await Promise.all(batch);
  }
  return { ids, refused };
}

/** Takes the churned connections down; the record of the moment, and an undo if any. */
async function takeDown(
  ctx: StepContext,
  ids: number[],
  then: ChurnEnd,
): Promise<Pick<StepDone, "undo"> & { record: StepRecord }> {
  const base = { actor: ACTOR[then], action: "churn", ok: true, untimed: true } as const;
  if (then === "abort") {
    for (let start = 0; start < ids.length; start += CHURN_BATCH) {
      await Promise.all(ids.slice(start, start + CHURN_BATCH).map((id) => ctx.agent.abort(id)));
    }
    return { record: { ...base, detail: `${ids.length} clients reset`, t: monotonicMs() } };
  }
  if (then === "crash") {
    const detail = `client process with ${ids.length} connections killed`;
    return { record: { ...base, detail, t: await ctx.agent.crash() } };
  }
  const gone = await vanish(ctx.lab);
  if (gone instanceof FaultUnsupported) throw gone;
  const detail = `${ids.length} clients vanished`;
  return { record: { ...base, detail, t: gone.t, sentAt: gone.sentAt }, undo: gone.undo };
}

/** The step `churn`. */
export const churnAction = defineAction<"churn", StepOf<"churn">>({
  kind: "churn",
  summary: "many more clients connect, then all go down at once",
  actor: ({ then }) => ACTOR[then],
  takesClientDown: true,
  needsHolder: ({ then }) => then === "crash",
  check: ({ clients, then }) =>
    !Number.isInteger(clients) || clients < 1 || clients > MAX_CLIENTS
      ? {
        field: "clients",
        expected: `an integer from 1 to ${MAX_CLIENTS} (got ${shown(clients)})`,
      }
      : !ENDS.includes(then)
      ? { field: "then", expected: `one of ${ENDS.join(", ")} (got ${shown(then)})` }
      : undefined,
  run: async (ctx, { clients: wanted, then }) => {
    const { ids, refused } = await open(ctx, wanted);
    if (ids.length === 0) {
      throw new HarnessError(`Churn: the server accepted none of ${wanted} connections`);
    }
    const connected: StepRecord = {
      actor: "client",
      action: "churn",
      detail: `${ids.length} clients connected${
        refused ? `, ${refused} refused or dropped by the server` : ""
      }`,
      t: monotonicMs(),
      ok: true,
      traffic: true,
      untimed: true,
    };
    const { record, undo } = await takeDown(ctx, ids, then);
    return {
      records: [connected, record],
      churn: { opened: ids.length, refused },
      ...(undo ? { undo } : {}),
    };
  },
});
