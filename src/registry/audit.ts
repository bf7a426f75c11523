import type { Clock } from '../clock.js';
import type { SqliteDb } from '../db/sqlite.js';
import { toShanghaiIso } from '../time/shanghai.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './pagination.js';

/**
 * The append-only audit log: who (API key id or 'system'), what (`supplier.create`,
 * `device.register`, …), when (injected clock) and to which subject. Entries are written in the
 * same transaction as the change they describe. There is no UPDATE or DELETE against this table
 * anywhere, and triggers (schema.ts) abort any that is attempted. Details never hold tokens or keys.
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
  append(actor: string, action: string, subject: string, details?: Record<string, unknown>): void;
  page(filter?: AuditFilter, page?: PageRequest): Page<AuditEntry>;
}

interface AuditRow {
  rowid: number;
  at: number;
  actor: string;
  action: string;
  subject: string;
  details: string;
}

export function createAuditLog(db: SqliteDb, clock: Clock): AuditLog {
  const insert = db.prepare('INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)');
  const select = db.prepare(`
    SELECT id AS rowid, at, actor, action, subject, details FROM audit_log
    WHERE id > @after AND (@subject IS NULL OR subject = @subject) AND (@action IS NULL OR action = @action)
    ORDER BY id LIMIT @limit`);

  return {
    append(actor, action, subject, details = {}) {
      insert.run(clock.now(), actor, action, subject, JSON.stringify(details));
    },
    page(filter = {}, page) {
      const limit = pageLimit(page);
      const rows = select.all({
        after: decodeCursor(page?.cursor),
        subject: filter.subject ?? null,
        action: filter.action ?? null,
        limit: limit + 1,
      }) as AuditRow[];
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
