/**
 * The fault's moment as the kernel saw it, not as the runner asked for it. A router rule
 * switched by netlink took effect within the runner's own system call (`sentAt` … `t` of the
 * step). A step whose effect is a FIN or an RST of the connection under test (a close, an
 * abort, a crash, a reset from the host) took effect when that segment passed the router, as
 * the capture stamped it. Any other step counts from its own report.
 *
 * @module
 */

import { CAPTURE_SLACK_MS, type PacketEvent } from "../observe/capture.ts";
import type { RunRecord, StepRecord } from "../observe/observations.ts";
import { actionFor, type Step } from "../actions/registry.ts";

/** A fault's moment: when it took effect, and how that was known. */
export type FaultMoment = NonNullable<RunRecord["faultMoment"]> & { at: number };

/** Whether the capture, not the step's report, tells when `step` took effect. */
export function capturedMoment(step: Step): boolean {
  return actionFor(step).endsWithSegment(step);
}

/**
 * The moment from the step's own records: the last one is what took the client down, within
 * its system call when the runner made it, else at its report, which is at most the whole
 * down part late. A step that sets up first (churn opens its connections) asks for the down
 * part as the record before ends.
 */
export function stepMoment(stepAskedAt: number, records: readonly StepRecord[]): FaultMoment {
  const record = records.at(-1);
  const setUp = records.at(-2)?.t;
  const askedAt = setUp === undefined ? stepAskedAt : Math.max(stepAskedAt, setUp);
  if (!record) return { askedAt, at: askedAt, source: "runner", toleranceMs: 0 };
  if (record.sentAt !== undefined) {
    return { askedAt, at: record.t, source: "netlink", toleranceMs: record.t - record.sentAt };
  }
  return { askedAt, at: record.t, source: "runner", toleranceMs: Math.max(0, record.t - askedAt) };
}

/**
 * The capture's moment: the first FIN or RST of the client's connection `clientPort` that
 * passed the router once the runner had asked; `moment` itself when there is none (no
 * capture, or the segment never passed). A capture stamp is the segment's own moment: the
 * tolerance is the clock conversion's (tcpdump stamps the wall clock, CAPTURE_SLACK_MS).
 */
export function segmentMoment(
  moment: FaultMoment,
  packets: readonly PacketEvent[],
  clientPort: number | undefined,
): FaultMoment {
  const first = packets.find((p) =>
    p.direction === "client_to_server" && p.client.port === clientPort &&
    p.at >= moment.askedAt - CAPTURE_SLACK_MS &&
    (p.flags.includes("FIN") || p.flags.includes("RST"))
  );
  return first
    ? { askedAt: moment.askedAt, at: first.at, source: "capture", toleranceMs: CAPTURE_SLACK_MS }
    : moment;
}
