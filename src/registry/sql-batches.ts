/**
 * Rows per multi-row statement (`INSERT … VALUES (…), (…)`, `IN (…)`): one round trip per
 * batch instead of one per row, which matters on PostgreSQL where each is a network round trip.
 * 500 rows of up to 9 columns stay far below both databases' parameter limits (SQLite 32,766;
 * PostgreSQL 65,535).
 */
export const ROWS_PER_STATEMENT = 500;

/** `items` in consecutive slices of at most `size` (none for an empty list). */
export function inChunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Code-unit order, the same whichever database (and collation) the rows came from. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
