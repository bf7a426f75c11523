import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { SqlDb } from '../db/sql-db.js';

/**
 * Signed forms of decisions (compact JWS), kept next to the rows they sign. `kind` names what
 * was signed ('redemption', later 'application-decision'), `subject` its id. Append-only.
 */
export interface SignedRecords {
  /** Call inside the transaction that stores the signed decision. */
  add(kind: string, subject: string, jws: string): Promise<void>;
  latest(kind: string, subject: string): Promise<string | undefined>;
}

export function createSignedRecords(db: SqlDb, clock: Clock): SignedRecords {
  return {
    async add(kind, subject, jws) {
      await db.run(sql`INSERT INTO signed_records (kind, subject, jws, created_at) VALUES (${kind}, ${subject}, ${jws}, ${clock.now()})`);
    },
    async latest(kind, subject) {
      const row = await db.one<{ jws: string }>(sql`SELECT jws FROM signed_records WHERE kind = ${kind} AND subject = ${subject} ORDER BY id DESC LIMIT 1`);
      return row?.jws;
    },
  };
}
