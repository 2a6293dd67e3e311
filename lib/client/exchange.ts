/**
 * One exchange on a connection: the request sent, its response read, as a step's record.
 *
 * @module
 */

import type { StepRecord } from "../observe/observations.ts";
import type { Exchange } from "../target/define_target.ts";
import type { ClientAgent } from "./client_agent.ts";

/** How long one ordinary exchange (a request and its response) may take. */
export const EXCHANGE_MS = 5000;

/**
 * Sends `request` on connection `id` and reads its response within `timeoutMs`; the record
 * says whether the whole response came, and why not.
 */
export async function exchangeOn(
  agent: Pick<ClientAgent, "send" | "read">,
  id: number,
  action: string,
  request: Exchange,
  timeoutMs: number = EXCHANGE_MS,
): Promise<StepRecord> {
  const base = { actor: "client" as const, action, traffic: true };
  const sent = await agent.send(id, request.send, { timeoutMs: EXCHANGE_MS });
  if (!sent.ok) return { ...base, t: sent.t, ok: false, error: sent.error };
  const read = await agent.read(id, { until: request.until, timeoutMs });
  if (read.ok && read.found) return { ...base, t: read.t, ok: true };
  const error = read.ok ? (read.eof ? "EOF" : "response incomplete") : read.error;
  return { ...base, t: read.t, ok: false, error };
}
