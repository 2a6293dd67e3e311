/**
 * Which targets a rootless lab can run (see lib/lab/user_namespace.ts): every target but one
 * that switches user, as only the user's own uid is mapped in its user namespace. Ports below
 * 1024 are no reason: the lab's namespaces belong to the run's user namespace.
 *
 * @module
 */

import type { TargetDefinition } from "./define_target.ts";

/** Why `target` needs root, or undefined when a rootless lab can run it. */
export function needsRoot(target: TargetDefinition): string | undefined {
  return target.runsAs === undefined
    ? undefined
    : `its server switches to the user "${target.runsAs}", and a user namespace maps your own ` +
      `uid only: run it as root`;
}
