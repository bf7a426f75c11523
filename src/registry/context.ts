import type { Clock } from '../clock.js';
import type { SqlDb } from '../db/sql-db.js';
import type { Logger } from '../log.js';
import type { AuditLog } from './audit.js';
import type { VoucherEngine } from './vouchers.js';
import type { SignedRecords, Signer } from '../trust/index.js';

/** What every registry component is built from (index.ts wires it once). */
export interface RegistryContext {
  /** The registry's database (SQLite or PostgreSQL) through kysely; see src/db/sql-db.ts. */
  sql: SqlDb;
  clock: Clock;
  log: Logger;
  audit: AuditLog;
  engine: VoucherEngine;
  /** Signs decisions (src/trust); absent in tests whose subject is not signatures. */
  signer?: Signer;
  signedRecords: SignedRecords;
}

/** Who made a change, as recorded in the audit log: an API key id, or 'system'. */
export type Actor = string;

export const SYSTEM_ACTOR: Actor = 'system';

/** Parses an ISO-8601 instant (already validated at the edge) to epoch ms. */
export function isoToMs(iso: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new RangeError(`not an ISO-8601 instant: ${iso}`);
  return ms;
}
