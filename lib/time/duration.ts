/**
 * Durations as people write them in suite files: `"500ms"`, `"75s"`, `"10m"`, `"2h4m"`.
 *
 * @module
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** A duration: milliseconds, or a string such as `"2h4m"`. */
export type Duration = number | string;

/**
 * Milliseconds of a duration, or a RangeError naming what was expected.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("2h4m"); // 7440000
 * ```
 */
export function parseDuration(value: Duration): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === "string" && value.replace(PART, "") === "" && value !== "") {
    let ms = 0;
    for (const [, amount, unit] of value.matchAll(PART)) {
      ms += Number(amount) * (UNIT_MS[unit ?? ""] ?? 0);
    }
    return ms;
  }
  throw new RangeError(`Invalid duration "${value}": expected e.g. "500ms", "75s", "10m", "2h4m"`);
}

/**
 * Milliseconds of `value` when it is a duration, else undefined: for checks of suite and
 * target files, which name the field and what was expected themselves.
 */
export function durationMsOrUndefined(value: unknown): number | undefined {
  try {
    return parseDuration(value as Duration);
  } catch {
    return undefined;
  }
}

/**
 * `ms` as formatMs writes it, unless that would read as its bound while it is not (1013 ms
 * against "within 1 s" is not "1 s"): then in whole milliseconds.
 *
 * @example
 * ```ts
 * import { formatMsAgainst } from "./duration.ts";
 * formatMsAgainst(1013, 1000); // "1013 ms"
 * formatMsAgainst(8, 1000); // "8 ms"
 * ```
 */
export function formatMsAgainst(ms: number, boundMs: number): string {
  const shown = formatMs(ms);
  return shown === formatMs(boundMs) && Math.round(ms) !== Math.round(boundMs)
    ? `${Math.round(ms)} ms`
    : shown;
}

/** A short human form of milliseconds: `"924.6 s"`, `"2 h 11 min"`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1).replace(/\.0$/, "")} min`;
  const h = Math.floor(ms / 3_600_000);
  return `${h} h ${Math.round((ms - h * 3_600_000) / 60_000)} min`;
}
