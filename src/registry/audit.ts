import type { Clock } from '../clock.js';
import type { SqliteDb } from '../db/sqlite.js';
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
  append(actor: string, action: string, subject: string, details?: Record<string, unknown>): void;
  /** Size and root (hex) of the transparency log now, inside the caller's transaction. */
  head(): { treeSize: number; rootHash: string };
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
  const tree = createAuditTree(db);
  const select = db.prepare(`
    SELECT id AS rowid, at, actor, action, subject, details FROM audit_log
    WHERE id > @after AND (@subject IS NULL OR subject = @subject) AND (@action IS NULL OR action = @action)
    ORDER BY id LIMIT @limit`);

  return {
    // A transaction of its own (a savepoint when nested) so a row never exists without its leaf.
    append: db.transaction((actor: string, action: string, subject: string, details: Record<string, unknown> = {}) => {
      const at = clock.now();
      const text = JSON.stringify(details);
      const id = Number(insert.run(at, actor, action, subject, text).lastInsertRowid);
      tree.append(id, auditEntryBytes({ id, at, actor, action, subject, details: text }));
    }),
    head() {
      const treeSize = tree.size();
      return { treeSize, rootHash: tree.root(treeSize).toString('hex') };
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
