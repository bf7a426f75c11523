import { canonicalJson } from '../verifier/index.js';

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
 * The bytes of an audit entry as a leaf of the transparency log (RFC 9162 §2.1: d(m)): UTF-8
 * of the canonical JSON (keys sorted at every level, no whitespace; src/verifier/digest.ts) of
 * `{v, id, at, actor, action, subject, details}` — `at` in epoch milliseconds, `details` the
 * stored object. The row id is inside the bytes, so moving a row to another position changes
 * its leaf hash.
 */
export function auditEntryBytes(row: AuditRow): Buffer {
  return Buffer.from(
    canonicalJson({
      v: AUDIT_ENTRY_VERSION,
      id: row.id,
      at: row.at,
      actor: row.actor,
      action: row.action,
      subject: row.subject,
      details: JSON.parse(row.details) as unknown,
    }),
    'utf8',
  );
}
