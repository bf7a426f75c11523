import type { Migration, SqliteDb } from '../db/sqlite.js';
import { auditEntryBytes, type AuditRow } from './audit-entry.js';
import { createAuditTree } from './tree-store.js';

/**
 * Registry migration 6: the transparency log over audit_log (RFC 9162 §2.1), the signed tree
 * heads the gateway has issued, the public keys it has signed with, and signed records
 * (decisions). All append-only, enforced by triggers as audit_log is. Existing audit rows
 * become the first leaves, in id order.
 */
export const trustMigration: Migration = {
  version: 6,
  description: 'transparency log over the audit log, signed tree heads, signing keys, signed records',
  up(db: SqliteDb) {
    db.exec(`
      -- Level 0 of the tree: one leaf per audit row, leaf_index = position in the log.
      CREATE TABLE audit_leaves (
        leaf_index INTEGER PRIMARY KEY,
        audit_id INTEGER NOT NULL UNIQUE,
        hash BLOB NOT NULL CHECK (length(hash) = 32)
      );
      -- Perfect subtrees above the leaves: (level, idx) covers leaves [idx·2^level, (idx+1)·2^level).
      CREATE TABLE audit_tree_nodes (
        level INTEGER NOT NULL CHECK (level >= 1),
        idx INTEGER NOT NULL CHECK (idx >= 0),
        hash BLOB NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
      ) WITHOUT ROWID;
      CREATE TABLE audit_tree_heads (
        tree_size INTEGER PRIMARY KEY,
        root_hash BLOB NOT NULL CHECK (length(root_hash) = 32),
        timestamp INTEGER NOT NULL,
        kid TEXT NOT NULL,
        jws TEXT NOT NULL
      );
      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        jwk TEXT NOT NULL,
        first_seen_at INTEGER NOT NULL
      );
      CREATE TABLE signed_records (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        jws TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX signed_records_subject ON signed_records (kind, subject, id);
    `);
    for (const table of ['audit_leaves', 'audit_tree_nodes', 'audit_tree_heads', 'signing_keys', 'signed_records']) {
      db.exec(`
        CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
          BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;
        CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
          BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;
      `);
    }
    const tree = createAuditTree(db);
    const chunk = db.prepare('SELECT id, at, actor, action, subject, details FROM audit_log WHERE id > ? ORDER BY id LIMIT 10000');
    for (let after = 0; ; ) {
      const rows = chunk.all(after) as AuditRow[];
      if (rows.length === 0) break;
      for (const row of rows) tree.append(row.id, auditEntryBytes(row));
      after = rows[rows.length - 1]!.id;
    }
  },
};
