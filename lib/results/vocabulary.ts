/**
 * The words for the facts that verdicts and renderers both state: one wording per fact, so the
 * chart, the README's findings, the reports and the terminal never say one thing three ways.
 *
 * @module
 */

import { formatMs } from "../time/duration.ts";

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
