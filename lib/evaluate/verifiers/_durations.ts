/**
 * Checks a duration parameter of an expectation.
 *
 * @module
 */

import { type Duration, durationMsOrUndefined } from "../../time/duration.ts";
import type { ParameterProblem } from "./verifier.ts";

/** A problem when `value` is not a duration like "75s" or "10m". */
export function checkDuration(value: Duration, field: string): ParameterProblem | undefined {
  return durationMsOrUndefined(value) === undefined
    ? { field, expected: `a duration like "75s" or "10m" (got ${JSON.stringify(value)})` }
    : undefined;
}
