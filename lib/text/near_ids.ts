/**
 * "Did you mean": the known ids closest to a mistyped one, for usage errors.
 *
 * @module
 */

/** Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The `count` known ids nearest to `wanted`: ids it begins first, then ids of its family, then
 * the rest, each group by edit distance, ties by name. Always some, so a user sees the
 * shape of valid ids even for a guess that resembles none of them.
 *
 * @example
 * ```ts
 * import { nearIds } from "./near_ids.ts";
 * nearIds("vansh/idle", ["vanish/idle", "fin/idle", "rst/idle"], 1); // ["vanish/idle"]
 * ```
 */
export function nearIds(wanted: string, known: readonly string[], count = 5): string[] {
  const family = wanted.split("/")[0];
  const rank = (id: string) =>
    id.startsWith(wanted) ? 0 : id === family || id.startsWith(`${family}/`) ? 1 : 2;
  return [...new Set(known)]
    .map((id) => ({ id, rank: rank(id), distance: editDistance(wanted, id) }))
    .sort((a, b) => a.rank - b.rank || a.distance - b.distance || a.id.localeCompare(b.id))
    .slice(0, count)
    .map((near) => near.id);
}

/** `"a", "b", "c"`: ids quoted for a message. */
export function quoted(ids: readonly string[]): string {
  return ids.map((id) => `"${id}"`).join(", ");
}
