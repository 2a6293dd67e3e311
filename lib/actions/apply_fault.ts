/**
 * `fault.<name>(...)`: a fault of the fault registry (lib/faults/registry.ts), in the router or
 * the client's host. What it needs, who acts and whether it takes the client down are the
 * fault's own.
 *
 * @module
 */

import { FAULT_NAMES, faultNamed, type FaultStep } from "../faults/registry.ts";
import { FaultUnsupported } from "../faults/unsupported.ts";
import { shown } from "../text/shown.ts";
import { defineAction, HarnessError, type StepDone } from "./action.ts";
import type { StepOf } from "./step.ts";

/** The registry's fault of a step, or a HarnessError for an unknown name. */
function faultOf(step: FaultStep) {
  const fault = faultNamed(step.name);
  if (!fault) throw new HarnessError(`Unknown fault "${step.name}"`);
  return fault;
}

/** The step `fault`: the fault named in `fault`, with its parameters. */
export const applyFaultAction = defineAction<"fault", StepOf<"fault">>({
  kind: "fault",
  summary: "a fault in the router or the client's host, from the fault registry",
  name: ({ fault }) => fault.name,
  actor: ({ fault }) => faultOf(fault).actor,
  takesClientDown: ({ fault }) => faultNamed(fault.name)?.takesClientDown ?? false,
  endsWithSegment: ({ fault }) => faultOf(fault).endsWithSegment,
  needs: ({ fault }) => faultOf(fault).needs(fault),
  check: ({ fault }) => {
    const known = faultNamed(fault?.name);
    if (!known) {
      return {
        field: "fault",
        expected: `a known fault (${FAULT_NAMES.join(", ")}) (got ${shown(fault?.name ?? fault)})`,
      };
    }
    const problem = known.check(fault);
    return problem && { field: `fault.${problem.field}`, expected: problem.expected };
  },
  run: async (ctx, { fault: step }) => {
    const fault = faultOf(step);
    const done = await fault.apply({
      lab: ctx.lab,
      serverPort: ctx.server.port,
      clientPort: ctx.clientPort,
      natStrays: ctx.natStrays,
      undoLast: ctx.undoLast,
    }, step);
    if (done instanceof FaultUnsupported) throw done;
    const learned: Omit<StepDone, "records"> = {
      ...(done.undo ? { undo: done.undo } : {}),
      ...(done.clientAddressSeen ? { clientAddressSeen: done.clientAddressSeen } : {}),
      ...(done.natTimeoutMs === undefined ? {} : { natTimeoutMs: done.natTimeoutMs }),
      ...(done.natStrays ? { natStrays: done.natStrays } : {}),
    };
    return {
      records: [{
        actor: fault.actor,
        action: step.name,
        ...(done.detail ? { detail: done.detail } : {}),
        ...(done.peer ? { peer: done.peer } : {}),
        t: done.t,
        ...(done.sentAt === undefined ? {} : { sentAt: done.sentAt }),
        ok: true,
      }],
      ...learned,
    };
  },
});
