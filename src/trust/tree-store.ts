import { sql } from 'kysely';
import type { SqlDb } from '../db/sql-db.js';
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
 * The audit log's Merkle tree in the registry's database (tables of registry migration 6): leaf
 * hashes in audit_leaves, every completed perfect subtree in audit_tree_nodes. An append writes
 * the leaf and the subtrees it completes (amortised 2 rows, at most log2 n + 1); a root or a
 * proof reads its O(log n) rows in one query.
 */
export interface AuditTree {
  size(): Promise<number>;
  /** Appends the leaf of audit row `auditId`; call inside the transaction that wrote the row. */
  append(auditId: number, entry: Uint8Array): Promise<number>;
  leaf(index: number): Promise<{ auditId: number; hash: Hash } | undefined>;
  root(treeSize: number): Promise<Hash>;
  inclusion(leafIndex: number, treeSize: number): Promise<Hash[]>;
  consistency(from: number, to: number): Promise<Hash[]>;
}

const PLACEHOLDER = Buffer.alloc(32);

export function createAuditTree(db: SqlDb): AuditTree {
  /**
   * Which perfect subtrees an RFC 9162 computation reads depends only on sizes and indices, not
   * on hashes: a dry run with placeholder hashes names them, one query fetches them, and the
   * computation runs again on the fetched hashes (src/trust/merkle.ts stays synchronous and pure).
   */
  async function withNodes<T>(compute: (perfect: PerfectNode) => T): Promise<T> {
    const wanted = new Map<string, { level: number; index: number }>();
    compute((level, index) => {
      wanted.set(`${level}/${index}`, { level, index });
      return PLACEHOLDER;
    });
    const hashes = await fetchNodes([...wanted.values()]);
    return compute((level, index) => {
      const hash = hashes.get(`${level}/${index}`);
      if (!hash) throw new Error(`audit tree node (${level}, ${index}) is missing`);
      return hash;
    });
  }

  async function fetchNodes(nodes: Array<{ level: number; index: number }>): Promise<Map<string, Hash>> {
    const found = new Map<string, Hash>();
    const leaves = nodes.filter((n) => n.level === 0).map((n) => n.index);
    const inner = nodes.filter((n) => n.level > 0);
    if (leaves.length > 0) {
      const rows = await db.all<{ leaf_index: number; hash: Buffer }>(
        sql`SELECT leaf_index, hash FROM audit_leaves WHERE leaf_index IN (${sql.join(leaves)})`,
      );
      for (const r of rows) found.set(`0/${r.leaf_index}`, r.hash);
    }
    if (inner.length > 0) {
      const rows = await db.all<{ level: number; idx: number; hash: Buffer }>(
        // Typed: PostgreSQL cannot infer the type of a bare parameter inside VALUES.
        sql`SELECT level, idx, hash FROM audit_tree_nodes WHERE (level, idx) IN (VALUES ${sql.join(inner.map((n) => sql`(CAST(${n.level} AS BIGINT), CAST(${n.index} AS BIGINT))`))})`,
      );
      for (const r of rows) found.set(`${r.level}/${r.idx}`, r.hash);
    }
    return found;
  }

  const size = async () => {
    const row = await db.one<{ leaf_index: number }>(sql`SELECT leaf_index FROM audit_leaves ORDER BY leaf_index DESC LIMIT 1`);
    return row === undefined ? 0 : row.leaf_index + 1;
  };

  return {
    size,
    async append(auditId, entry) {
      const index = await size();
      let hash = leafHash(entry);
      await db.run(sql`INSERT INTO audit_leaves (leaf_index, audit_id, hash) VALUES (${index}, ${auditId}, ${hash})`);
      const completed = completedByAppend(index);
      // The new right child is `hash`; each left sibling was completed earlier.
      const siblings = await fetchNodes(completed.map((node) => ({ level: node.level - 1, index: node.index * 2 })));
      for (const node of completed) {
        const left = siblings.get(`${node.level - 1}/${node.index * 2}`);
        if (!left) throw new Error(`audit tree node (${node.level - 1}, ${node.index * 2}) is missing`);
        hash = nodeHash(left, hash);
        await db.run(sql`INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (${node.level}, ${node.index}, ${hash})`);
      }
      return index;
    },
    leaf: (index) => db.one<{ auditId: number; hash: Hash }>(sql`SELECT audit_id AS "auditId", hash FROM audit_leaves WHERE leaf_index = ${index}`),
    root: (treeSize) => withNodes((perfect) => rootHash(perfect, treeSize)),
    inclusion: (leafIndex, treeSize) => withNodes((perfect) => inclusionPath(perfect, leafIndex, treeSize)),
    consistency: (from, to) => withNodes((perfect) => consistencyPath(perfect, from, to)),
  };
}
