import type { Clock } from '../clock.js';
import type { SqliteDb } from '../db/sqlite.js';

/**
 * Signed forms of decisions (compact JWS), kept next to the rows they sign. `kind` names what
 * was signed ('redemption', later 'application-decision'), `subject` its id. Append-only.
 */
export interface SignedRecords {
  /** Call inside the transaction that stores the signed decision. */
  add(kind: string, subject: string, jws: string): void;
  latest(kind: string, subject: string): string | undefined;
}

export function createSignedRecords(db: SqliteDb, clock: Clock): SignedRecords {
  const insert = db.prepare('INSERT INTO signed_records (kind, subject, jws, created_at) VALUES (?, ?, ?, ?)');
  const latest = db.prepare('SELECT jws FROM signed_records WHERE kind = ? AND subject = ? ORDER BY id DESC LIMIT 1').pluck();
  return {
    add: (kind, subject, jws) => void insert.run(kind, subject, jws, clock.now()),
    latest: (kind, subject) => latest.get(kind, subject) as string | undefined,
  };
}
