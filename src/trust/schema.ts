import type { Migration, SqliteDb } from '../db/sqlite.js';
import { auditEntryBytes, type AuditRow } from './audit-entry.js';
import { completedByAppend, leafHash, nodeHash } from './merkle.js';

/**
 * Registry migration 6: the transparency log over audit_log (RFC 9162 §2.1), the signed tree
 * heads the gateway has issued, the public keys it has signed with, and signed records
 * (decisions). All append-only, enforced by triggers as audit_log is. Existing audit rows
 * become the first leaves, in id order.
 */
const TRUST_TABLES = `
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
    `;

const APPEND_ONLY = ['audit_leaves', 'audit_tree_nodes', 'audit_tree_heads', 'signing_keys', 'signed_records'];

function appendOnlyTriggers(table: string): string {
  return `
    CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
      BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;
    CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
      BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;
  `;
}

export const trustMigration: Migration = {
  version: 6,
  description: 'transparency log over the audit log, signed tree heads, signing keys, signed records',
  up: `${TRUST_TABLES}${APPEND_ONLY.map(appendOnlyTriggers).join('')}`,
  /** SQLite only: a database from before this migration has audit rows to turn into leaves. */
  backfill(db: SqliteDb) {
    // The tree starts empty here, so every left sibling an append needs was computed in this loop.
    const hashes = new Map<string, Buffer>();
    const insertLeaf = db.prepare('INSERT INTO audit_leaves (leaf_index, audit_id, hash) VALUES (?, ?, ?)');
    const insertNode = db.prepare('INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (?, ?, ?)');
    const chunk = db.prepare('SELECT id, at, actor, action, subject, details FROM audit_log WHERE id > ? ORDER BY id LIMIT 10000');
    let index = 0;
    for (let after = 0; ; ) {
      const rows = chunk.all(after) as AuditRow[];
      if (rows.length === 0) break;
      for (const row of rows) {
        let hash = leafHash(auditEntryBytes(row));
        insertLeaf.run(index, row.id, hash);
        hashes.set(`0/${index}`, hash);
        for (const node of completedByAppend(index)) {
          hash = nodeHash(hashes.get(`${node.level - 1}/${node.index * 2}`)!, hash);
          insertNode.run(node.level, node.index, hash);
          hashes.set(`${node.level}/${node.index}`, hash);
        }
        index++;
      }
      after = rows[rows.length - 1]!.id;
    }
  },
};
