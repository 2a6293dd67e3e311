/**
 * The words for the facts that verdicts and renderers both state: one wording per fact, so the
 * chart, the README's findings, the reports and the terminal never say one thing three ways.
 *
 * @module
 */

import { formatMs, formatMsAgainst } from "../time/duration.ts";

/** The kernel alone never ends the connection: no timer of its own applies. */
export const NEVER_BY_KERNEL = "never by the kernel alone";

/** A question the server made moot, or that does not apply to it. */
export const NOT_APPLICABLE = "not applicable";

/** The server had closed the connection before the client went down (it closes after each response). */
export const CLOSED_BEFORE_FAULT = "closed before the fault";

/**
 * Not released while watched: "not released within its 11 min budget" when the watch reached
 * the budget (the question is settled), else "not released within the watch of 20.4 s".
 *
 * @example
 * ```ts
 * import { notReleased } from "./vocabulary.ts";
 * notReleased(660_000, 900_000); // "not released within its 11 min budget"
 * notReleased(20_400, 660_000); // "not released within the watch of 20.4 s"
 * ```
 */
export function notReleased(watchedMs: number | undefined, budgetMs: number | undefined): string {
  if (budgetMs !== undefined && (watchedMs === undefined || watchedMs >= budgetMs)) {
    return `not released within its ${formatMs(budgetMs)} budget`;
  }
  return watchedMs === undefined
    ? "not released while watched"
    : `not released within the watch of ${formatMs(watchedMs)}`;
}

/**
 * A measured release after the fault: "released at 75.2 s"; one that rounds to 0 ms (a server
 * that closes within a millisecond of the peer's RST) is "released within 1 ms", never "at 0 ms",
 * which reads as a connection closed before the fault.
 *
 * @example
 * ```ts
 * import { releasedAt } from "./vocabulary.ts";
 * releasedAt(75_200); // "released at 75.2 s"
 * releasedAt(0.3); // "released within 1 ms"
 * ```
 */
export function releasedAt(ms: number): string {
  return Math.round(ms) === 0 ? "released within 1 ms" : `released at ${formatMs(ms)}`;
}

/**
 * How long after the fault a release came, in the budget's unit: "after 75.2 s"; one that rounds
 * to 0 ms is "within 1 ms", as in {@linkcode releasedAt}.
 *
 * @example
 * ```ts
 * import { releasedAfter } from "./vocabulary.ts";
 * releasedAfter(357, 1000); // "after 357 ms"
 * releasedAfter(0.4, 1000); // "within 1 ms"
 * ```
 */
export function releasedAfter(ms: number, budgetMs: number): string {
  return Math.round(ms) === 0 ? "within 1 ms" : `after ${formatMsAgainst(ms, budgetMs)}`;
}

/** The kernel timer whose count is of retransmissions; every other timer counts probes. */
export const RETRANSMIT_TIMER = "retransmit timer";

/**
 * What a socket timer's count is: "2 retransmission(s)" for the retransmit timer, "3 probe(s)
 * unanswered" for the others (keepalive, zero window probe).
 *
 * @example
 * ```ts
 * import { timerCount } from "./vocabulary.ts";
 * timerCount("retransmit timer", 2); // "2 retransmission(s)"
 * timerCount("keepalive timer", 3); // "3 probe(s) unanswered"
 * ```
 */
export function timerCount(timer: string, count: number): string {
  return timer === RETRANSMIT_TIMER ? `${count} retransmission(s)` : `${count} probe(s) unanswered`;
}
