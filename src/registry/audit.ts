import type { Clock } from '../clock.js';
import { sql } from 'kysely';
import type { SqlDb } from '../db/sql-db.js';
import { toShanghaiIso } from '../time/shanghai.js';
import { auditEntryBytes, createAuditTree } from '../trust/index.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './pagination.js';

/**
 * The append-only audit log: who (API key id or 'system'), what (`supplier.create`,
 * `device.register`, …), when (injected clock) and to which subject. Entries are written in the
 * same transaction as the change they describe. There is no UPDATE or DELETE against this table
 * anywhere, and triggers (schema.ts) abort any that is attempted. Details never hold tokens or keys.
 * Each entry is also a leaf of the transparency log (src/trust, RFC 9162 §2.1), appended in the
 * same transaction, so an entry and its leaf exist together or not at all.
 */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  subject?: string;
  action?: string;
}

export interface AuditLog {
  /** Call inside the transaction of the change being recorded. */
  append(actor: string, action: string, subject: string, details?: Record<string, unknown>): Promise<void>;
  /** Size and root (hex) of the transparency log now, inside the caller's transaction. */
  head(): Promise<{ treeSize: number; rootHash: string }>;
  page(filter?: AuditFilter, page?: PageRequest): Promise<Page<AuditEntry>>;
}

interface AuditRow {
  rowid: number;
  at: number;
  actor: string;
  action: string;
  subject: string;
  details: string;
}

export function createAuditLog(db: SqlDb, clock: Clock): AuditLog {
  const tree = createAuditTree(db);

  return {
    // Inside the caller's transaction (its own when there is none), so a row never exists without its leaf.
    append: (actor, action, subject, details = {}) =>
      db.transaction(async () => {
        const at = clock.now();
        const text = JSON.stringify(details);
        const row = await db.one<{ id: number }>(
          sql`INSERT INTO audit_log (at, actor, action, subject, details) VALUES (${at}, ${actor}, ${action}, ${subject}, ${text}) RETURNING id`,
        );
        const id = row!.id;
        await tree.append(id, auditEntryBytes({ id, at, actor, action, subject, details: text }));
      }),
    async head() {
      const treeSize = await tree.size();
      return { treeSize, rootHash: (await tree.root(treeSize)).toString('hex') };
    },
    async page(filter = {}, page) {
      const limit = pageLimit(page);
      let query = db
        .q()
        .selectFrom('audit_log')
        .select(['id as rowid', 'at', 'actor', 'action', 'subject', 'details'])
        .where('id', '>', decodeCursor(page?.cursor));
      if (filter.subject !== undefined) query = query.where('subject', '=', filter.subject);
      if (filter.action !== undefined) query = query.where('action', '=', filter.action);
      const rows = (await query.orderBy('id').limit(limit + 1).execute()) as AuditRow[];
      return toPage(rows, limit, (row) => ({
        id: row.rowid,
        at: toShanghaiIso(row.at),
        actor: row.actor,
        action: row.action,
        subject: row.subject,
        details: JSON.parse(row.details) as Record<string, unknown>,
      }));
    },
  };
}
