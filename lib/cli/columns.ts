/**
 * Plain-text tables for a terminal or a CI log: columns padded to their widest cell, the
 * last one cut so that every line fits a width. Adding a column is adding a cell to each row.
 *
 * @module
 */

import { fitted } from "./progress.ts";

/**
 * Rows as lines: each column but the last padded to its widest cell, two spaces between
 * columns, every line cut to `width` (default 100) with an ellipsis.
 *
 * @example
 * ```ts
 * import { columns } from "./columns.ts";
 * columns([["nginx", "web server"], ["redis", "key-value store"]], "  ");
 * // ["  nginx  web server", "  redis  key-value store"]
 * ```
 */
export function columns(rows: readonly (readonly string[])[], indent = "", width = 100): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  return rows.map((row) =>
    fitted(
      indent + row.map((cell, i) => i < row.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell)
        .join("  ").trimEnd(),
      width,
    )
  );
}
