import type { Clock } from '../clock.js';
import type { SqliteDb } from '../db/sqlite.js';
import { AppError } from '../errors.js';
import { auditEntryBytes, type AuditRow } from './audit-entry.js';
import { JWS_TYPES, type Signer } from './signer.js';
import { createAuditTree, type AuditTree } from './tree-store.js';
import type { PublicJwk } from './keys.js';

/** Hashes travel as lowercase hex; entry bytes as base64 (they are UTF-8 JSON, but bytes are what is hashed). */
export interface TreeHead {
  treeSize: number;
  rootHash: string;
  /** When the head was signed, epoch milliseconds (RFC 9162 timestamps are ms). */
  timestamp: number;
}

export interface SignedTreeHead extends TreeHead {
  kid: string;
  /** Compact JWS over the canonical JSON of {treeSize, rootHash, timestamp}. */
  jws: string;
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  auditPath: string[];
  /** base64 of the entry bytes (src/trust/audit-entry.ts); leafHash = SHA-256(0x00 ‖ entry). */
  entry: string;
  leafHash: string;
}

export interface ConsistencyProof {
  from: number;
  to: number;
  consistencyPath: string[];
}

export interface LogEntry {
  leafIndex: number;
  auditId: number;
  entry: string;
}

export interface TransparencyLog {
  tree: AuditTree;
  /** The head over the whole log now: the stored one if the log has not grown since, else a new signed one. */
  treeHead(): SignedTreeHead;
  /** A stored signed head of that size, if the gateway ever issued one. */
  storedHead(treeSize: number): SignedTreeHead | undefined;
  inclusion(leafIndex: number, treeSize: number): InclusionProof;
  consistency(from: number, to: number): ConsistencyProof;
  entries(fromIndex: number, limit: number): LogEntry[];
  /** The public keys: every key the gateway has signed with (retired ones stay), active first. */
  jwks(): { keys: PublicJwk[] };
  /** A verification report as a compact JWS naming the current tree head in its protected header. */
  signReport(report: unknown): string;
}

export interface TransparencyLogOptions {
  db: SqliteDb;
  clock: Clock;
  signer: Signer;
}

interface HeadRow {
  tree_size: number;
  root_hash: Buffer;
  timestamp: number;
  kid: string;
  jws: string;
}

const fromHeadRow = (r: HeadRow): SignedTreeHead => ({
  treeSize: r.tree_size,
  rootHash: r.root_hash.toString('hex'),
  timestamp: r.timestamp,
  kid: r.kid,
  jws: r.jws,
});

export function createTransparencyLog(options: TransparencyLogOptions): TransparencyLog {
  const { db, clock, signer } = options;
  const tree = createAuditTree(db);
  const latestHead = db.prepare('SELECT * FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1');
  const headOfSize = db.prepare('SELECT * FROM audit_tree_heads WHERE tree_size = ?');
  const insertHead = db.prepare('INSERT OR IGNORE INTO audit_tree_heads (tree_size, root_hash, timestamp, kid, jws) VALUES (?, ?, ?, ?, ?)');
  const auditRow = db.prepare('SELECT id, at, actor, action, subject, details FROM audit_log WHERE id = ?');
  const leavesFrom = db.prepare('SELECT leaf_index AS leafIndex, audit_id AS auditId FROM audit_leaves WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?');
  const insertKey = db.prepare('INSERT OR IGNORE INTO signing_keys (kid, jwk, first_seen_at) VALUES (?, ?, ?)');
  const allKeys = db.prepare('SELECT jwk FROM signing_keys ORDER BY first_seen_at, kid').pluck();

  // Every key in the file is published, and stays published once seen, even if an operator
  // later drops it from the file: old signatures must stay verifiable (issue 18).
  const recordKeys = () => {
    for (const key of signer.publicKeys()) insertKey.run(key.kid, JSON.stringify(key), clock.now());
  };
  recordKeys();

  const entryBytes = (auditId: number): Buffer => {
    const row = auditRow.get(auditId) as AuditRow | undefined;
    // The leaf exists but its row does not: the log was tampered with (the integrity check reports it).
    if (!row) throw new AppError('GW_ERR_INTERNAL', `audit row ${auditId} of a leaf is missing`);
    return auditEntryBytes(row);
  };

  const checkSize = (treeSize: number, what: string) => {
    const size = tree.size();
    if (treeSize > size) throw new AppError('GW_ERR_AUDIT_PROOF_RANGE', `${what} ${treeSize} is beyond the log's ${size} entries`);
  };

  const treeHead = db.transaction((): SignedTreeHead => {
    const treeSize = tree.size();
    const latest = latestHead.get() as HeadRow | undefined;
    if (latest && latest.tree_size === treeSize) return fromHeadRow(latest);
    const root = tree.root(treeSize);
    const head: TreeHead = { treeSize, rootHash: root.toString('hex'), timestamp: clock.now() };
    recordKeys();
    const jws = signer.signJson(head, JWS_TYPES.treeHead);
    insertHead.run(treeSize, root, head.timestamp, signer.activeKid(), jws);
    return fromHeadRow(headOfSize.get(treeSize) as HeadRow);
  });

  return {
    tree,
    treeHead,
    storedHead(treeSize) {
      const row = headOfSize.get(treeSize) as HeadRow | undefined;
      return row && fromHeadRow(row);
    },
    inclusion(leafIndex, treeSize) {
      checkSize(treeSize, 'treeSize');
      if (leafIndex >= treeSize) throw new AppError('GW_ERR_AUDIT_PROOF_RANGE', `index ${leafIndex} is not below treeSize ${treeSize}`);
      const leaf = tree.leaf(leafIndex)!;
      return {
        leafIndex,
        treeSize,
        auditPath: tree.inclusion(leafIndex, treeSize).map((h) => h.toString('hex')),
        entry: entryBytes(leaf.auditId).toString('base64'),
        leafHash: leaf.hash.toString('hex'),
      };
    },
    consistency(from, to) {
      checkSize(to, 'to');
      if (from < 1 || from > to) throw new AppError('GW_ERR_AUDIT_PROOF_RANGE', `no consistency proof from ${from} to ${to} (need 1 ≤ from ≤ to)`);
      return { from, to, consistencyPath: tree.consistency(from, to).map((h) => h.toString('hex')) };
    },
    entries(fromIndex, limit) {
      return (leavesFrom.all(fromIndex, limit) as Array<{ leafIndex: number; auditId: number }>).map((l) => ({
        ...l,
        entry: entryBytes(l.auditId).toString('base64'),
      }));
    },
    jwks() {
      recordKeys();
      const activeKid = signer.activeKid();
      const keys = (allKeys.all() as string[]).map((text) => JSON.parse(text) as PublicJwk);
      return { keys: [...keys.filter((k) => k.kid === activeKid), ...keys.filter((k) => k.kid !== activeKid)] };
    },
    signReport(report) {
      const { treeSize, rootHash, timestamp } = treeHead();
      return signer.signJson(report, JWS_TYPES.report, { treeHead: { treeSize, rootHash, timestamp } });
    },
  };
}
