/**
 * A value as an error message quotes it.
 *
 * @module
 */

/** `value` as a message shows it: a string in double quotes, anything else as JSON. */
export function shown(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : JSON.stringify(value) ?? String(value);
}
