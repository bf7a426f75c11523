import { sql } from 'kysely';
/** An audit_log row as stored: times in epoch ms, details as JSON text. */
export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  subject: string;
  details: string;
}

/** Version of the entry encoding, written into every entry so a future encoding is told apart. */
export const AUDIT_ENTRY_VERSION = 1;

/**
 * The bytes of an audit entry as a leaf of the transparency log (RFC 9162 §2.1: d(m)): UTF-8 of
 *
 *   {"action":…,"actor":…,"at":<epoch ms>,"details":<stored details JSON>,"id":<row id>,"subject":…,"v":1}
 *
 * — the row's columns in that order, strings written by JSON.stringify, `details` exactly as
 * stored (it was written by JSON.stringify). A deterministic function of the stored row, so the
 * gateway's integrity check and an auditor recompute the same bytes without parsing anything;
 * the entry is still JSON for a reader. The row id is inside the bytes, so moving a row to
 * another position changes its leaf hash.
 */
export function auditEntryBytes(row: AuditRow): Buffer {
  return Buffer.from(
    `{"action":${JSON.stringify(row.action)},"actor":${JSON.stringify(row.actor)},"at":${row.at},"details":${row.details},"id":${row.id},"subject":${JSON.stringify(row.subject)},"v":${AUDIT_ENTRY_VERSION}}`,
    'utf8',
  );
}

/** A leaf of the transparency log joined with its audit row; the row's columns are null when the row is gone. */
export interface LeafRowJoin {
  leaf_index: number;
  audit_id: number;
  hash: Buffer;
  id: number | null;
  at: number | null;
  actor: string | null;
  action: string | null;
  subject: string | null;
  details: string | null;
}

/** Leaves from `fromIndex` on, each with its audit row (the proofs' entries and the integrity check's pages). */
export const leavesWithRows = (fromIndex: number, limit: number) => sql<LeafRowJoin>`
  SELECT l.leaf_index, l.audit_id, l.hash, a.id, a.at, a.actor, a.action, a.subject, a.details
  FROM audit_leaves l LEFT JOIN audit_log a ON a.id = l.audit_id
  WHERE l.leaf_index >= ${fromIndex} ORDER BY l.leaf_index LIMIT ${limit}`;
