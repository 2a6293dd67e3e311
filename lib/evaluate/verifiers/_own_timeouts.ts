/**
 * The server's own settings that may end a connection before the kernel does: the knobs its
 * target lists (in words, "send_timeout" → "60s (no write progress, then close)") whose setting
 * starts with a duration shorter than the kernel's predicted release. A prediction from socket
 * options is what the kernel alone would do, so these are what may act sooner.
 *
 * @module
 */

import { formatMs } from "../../time/duration.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, m: 60_000, h: 3_600_000 };
/** A setting that starts with a duration: "60s", "5 s", "30000 ms", "2m / 2", "1min". */
const LEADING_DURATION = /^(\d+(?:\.\d+)?)\s*(ms|min|s|m|h)\b/;

/**
 * The knobs whose setting is a non-zero duration shorter than `beforeMs`, as "name setting"
 * ("send_timeout 60 s"), shortest first.
 *
 * @example
 * ```ts
 * import { ownTimeoutsBefore } from "./_own_timeouts.ts";
 * ownTimeoutsBefore({ send_timeout: "60s (no write progress)", so_keepalive: "off" }, 900_000);
 * // ["send_timeout 60 s"]
 * ```
 */
export function ownTimeoutsBefore(
  knobs: Readonly<Record<string, string>>,
  beforeMs: number,
): string[] {
  return Object.entries(knobs)
    .flatMap(([name, setting]) => {
      const m = LEADING_DURATION.exec(setting.trim());
      const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0) : 0;
      return ms > 0 && ms < beforeMs ? [{ name, ms }] : [];
    })
    .sort((a, b) => a.ms - b.ms)
    .map(({ name, ms }) => `${name} ${formatMs(ms)}`);
}
