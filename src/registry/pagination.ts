import { badRequest } from '../errors.js';

/**
 * Keyset pagination, the same shape on every list: `?limit=1..1000` (default 100) and
 * `?cursor=` taken from the previous page's `nextCursor`; the response is
 * `{ items, nextCursor }`, `nextCursor` null on the last page. Items come in insertion order
 * (SQLite rowid), so a page never shifts when rows are added after it.
 */
export interface PageRequest {
  limit?: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

/** The cursor is opaque to clients; inside it is the last row's rowid. */
export function encodeCursor(rowid: number): string {
  return Buffer.from(`r${rowid}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^r(\d{1,15})$/.exec(text);
  if (!match) throw badRequest('GW_ERR_API_INVALID_CURSOR', 'cursor is not one this API issued', [{ path: 'query.cursor', message: 'invalid cursor' }]);
  return Number(match[1]);
}

export function pageLimit(page: PageRequest | undefined): number {
  const limit = page?.limit ?? DEFAULT_PAGE_LIMIT;
  return Math.min(Math.max(1, Math.trunc(limit)), MAX_PAGE_LIMIT);
}

/** Turns `limit + 1` fetched rows (each with its rowid) into a page. */
export function toPage<R extends { rowid: number }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), nextCursor: more ? encodeCursor(kept[kept.length - 1]!.rowid) : null };
}
