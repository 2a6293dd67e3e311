/**
 * `wait(duration)`: a fixed pause in the scenario. It is part of the scenario and runs in
 * full, whatever the deadline; only an interrupt cuts it short.
 *
 * @module
 */

import { monotonicMs } from "../libc/libc.ts";
import { shown } from "../text/shown.ts";
import { durationMsOrUndefined, parseDuration } from "../time/duration.ts";
import { sleepUnless } from "../time/sleep_unless.ts";
import { defineAction, stepDone } from "./action.ts";
import type { StepOf } from "./step.ts";

/** The step `wait`. */
export const waitAction = defineAction<"wait", StepOf<"wait">>({
  kind: "wait",
  summary: "a fixed pause in the scenario, run in full",
  actor: "harness",
  pauseMs: ({ duration }) => parseDuration(duration),
  check: ({ duration }) =>
    durationMsOrUndefined(duration) === undefined
      ? { field: "duration", expected: `a duration like "75s" or "10m" (got ${shown(duration)})` }
      : undefined,
  run: async (ctx, { duration }) => {
    await sleepUnless(parseDuration(duration), ctx.signal);
    return stepDone("harness", "wait", monotonicMs(), { detail: String(duration) });
  },
});
