import type { SqliteDb } from '../db/sqlite.js';
import {
  completedByAppend,
  consistencyPath,
  inclusionPath,
  leafHash,
  nodeHash,
  rootHash,
  type Hash,
  type PerfectNode,
} from './merkle.js';

/**
 * The audit log's Merkle tree in SQLite (tables of registry migration 6): leaf hashes in
 * audit_leaves, every completed perfect subtree in audit_tree_nodes. An append writes the leaf
 * and the subtrees it completes (amortised 2 rows, at most log2 n + 1); a root or a proof reads
 * O(log n) rows by primary key.
 */
export interface AuditTree {
  size(): number;
  /** Appends the leaf of audit row `auditId`; call inside the transaction that wrote the row. */
  append(auditId: number, entry: Uint8Array): number;
  leaf(index: number): { auditId: number; hash: Hash } | undefined;
  root(treeSize: number): Hash;
  inclusion(leafIndex: number, treeSize: number): Hash[];
  consistency(from: number, to: number): Hash[];
  perfect: PerfectNode;
}

export function createAuditTree(db: SqliteDb): AuditTree {
  const last = db.prepare('SELECT leaf_index FROM audit_leaves ORDER BY leaf_index DESC LIMIT 1').pluck();
  const insertLeaf = db.prepare('INSERT INTO audit_leaves (leaf_index, audit_id, hash) VALUES (?, ?, ?)');
  const insertNode = db.prepare('INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (?, ?, ?)');
  const getLeaf = db.prepare('SELECT audit_id AS auditId, hash FROM audit_leaves WHERE leaf_index = ?');
  const getNode = db.prepare('SELECT hash FROM audit_tree_nodes WHERE level = ? AND idx = ?').pluck();

  const perfect: PerfectNode = (level, index) => {
    const hash = level === 0 ? (getLeaf.get(index) as { hash: Hash } | undefined)?.hash : (getNode.get(level, index) as Hash | undefined);
    if (!hash) throw new Error(`audit tree node (${level}, ${index}) is missing`);
    return hash;
  };
  const size = () => {
    const index = last.get() as number | undefined;
    return index === undefined ? 0 : index + 1;
  };

  return {
    size,
    append(auditId, entry) {
      const index = size();
      let hash = leafHash(entry);
      insertLeaf.run(index, auditId, hash);
      for (const node of completedByAppend(index)) {
        // The new right child is `hash`; its left sibling was completed earlier.
        hash = nodeHash(perfect(node.level - 1, node.index * 2), hash);
        insertNode.run(node.level, node.index, hash);
      }
      return index;
    },
    leaf: (index) => getLeaf.get(index) as { auditId: number; hash: Hash } | undefined,
    root: (treeSize) => rootHash(perfect, treeSize),
    inclusion: (leafIndex, treeSize) => inclusionPath(perfect, leafIndex, treeSize),
    consistency: (from, to) => consistencyPath(perfect, from, to),
    perfect,
  };
}
