/**
 * The reference servers' event log: one line per event on stderr, `key=value` fields, the
 * time on the shared monotonic clock, e.g.
 * `t=81234.567 event=timeout fd=5 peer=192.0.2.2:40512 kind=send`.
 *
 * @module
 */

import { monotonicMs } from "../../lib/libc/libc.ts";

/** Writes one event line to stderr. */
export function logEvent(event: string, fields: Record<string, string | number> = {}): void {
  const rest = Object.entries(fields).map(([key, value]) => ` ${key}=${value}`).join("");
  console.error(`t=${monotonicMs().toFixed(3)} event=${event}${rest}`);
}
