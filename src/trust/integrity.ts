import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { SqlDb } from '../db/sql-db.js';
import type { Logger } from '../log.js';
import { toShanghaiIso } from '../time/shanghai.js';
import { auditEntryBytes, leavesWithRows, type AuditRow } from './audit-entry.js';
import { leafHash, nodeHash, EMPTY_ROOT, type Hash } from './merkle.js';
import type { AuditTree } from './tree-store.js';

/** The outcome of the last consistency check of the audit log against its tree and signed heads. */
export interface IntegrityState {
  status: 'unchecked' | 'ok' | 'tampered';
  checkedAt?: string;
  /** Leaves in the tree when checked. */
  treeSize?: number;
  /** Signed tree heads the rows were held to. */
  headsChecked?: number;
  /** What was found, first few only. */
  problems: string[];
}

export interface IntegrityChecker {
  /** Re-reads every audit row in chunks (yielding between them) and holds it to its leaf and to every signed head. */
  check(): Promise<IntegrityState>;
  state(): IntegrityState;
}

/** Rows per read (one query, keyed on leaf_index, so a page costs the same at any depth). */
const PAGE = 10_000;
/** Rows hashed between turns of the event loop: about 50 ms on a slow core. */
const YIELD_EVERY = 2000;
const MAX_PROBLEMS = 20;

/**
 * RFC 9162 gives auditors consistency proofs against heads they saved; this is the gateway's own
 * check of the same property against the heads it has signed (audit_tree_heads). An edited row no
 * longer hashes to its leaf; a deleted or renumbered row leaves its leaf without a row; an added
 * or moved row changes the row count or the ids in the entry bytes; and even with the leaf and
 * node tables rewritten to match, the root recomputed from the rows differs from the signed heads.
 * Only an attacker holding the signing key and rewriting the heads too gets past this check —
 * and not past an auditor's saved head (`gateway verify-log`).
 */
/**
 * The perfect subtrees of the leaves pushed so far, largest first; root() folds them (RFC 9162
 * MTH). `completed` receives each interior node as it completes: (level, index, hash).
 */
function createFrontier(completed?: (level: number, index: number, hash: Hash) => void) {
  const stack: Array<{ level: number; index: number; hash: Hash }> = [];
  return {
    push(hash: Hash, leafIndex: number) {
      stack.push({ level: 0, index: leafIndex, hash });
      while (stack.length >= 2 && stack[stack.length - 1]!.level === stack[stack.length - 2]!.level) {
        const right = stack.pop()!;
        const left = stack.pop()!;
        const node = { level: left.level + 1, index: left.index / 2, hash: nodeHash(left.hash, right.hash) };
        completed?.(node.level, node.index, node.hash);
        stack.push(node);
      }
    },
    root(): Hash {
      if (stack.length === 0) return EMPTY_ROOT;
      let r = stack[stack.length - 1]!.hash;
      for (let i = stack.length - 2; i >= 0; i--) r = nodeHash(stack[i]!.hash, r);
      return r;
    },
  };
}

export function createIntegrityChecker(options: { db: SqlDb; clock: Clock; log: Logger; tree: AuditTree }): IntegrityChecker {
  const { db, clock, log, tree } = options;
  const page = (from: number, limit: number) => db.all(leavesWithRows(from, limit));
  const nodeRange = (level: number, from: number, to: number) =>
    db.all(sql<{ idx: number; hash: Buffer }>`SELECT idx, hash FROM audit_tree_nodes WHERE level = ${level} AND idx BETWEEN ${from} AND ${to} ORDER BY idx`);
  let state: IntegrityState = { status: 'unchecked', problems: [] };
  let running: Promise<IntegrityState> | undefined;

  const run = async (): Promise<IntegrityState> => {
    const problems: string[] = [];
    const problem = (p: string) => {
      if (problems.length < MAX_PROBLEMS) problems.push(p);
    };
    // Size, row count and heads from one moment: in a write transaction (on PostgreSQL under the
    // registry's write lock) no append lands between them and shows up as a missing leaf.
    const { size, rows, signed } = await db.transaction(async () => ({
      size: await tree.size(),
      rows: (await db.one(sql<{ n: number }>`SELECT count(*) AS n FROM audit_log`))!.n,
      signed: await db.all(sql<{ tree_size: number; root_hash: Buffer }>`SELECT tree_size, root_hash FROM audit_tree_heads ORDER BY tree_size`),
    }));
    if (rows !== size) problem(`audit_log has ${rows} rows but the log has ${size} leaves`);
    for (const h of signed) if (h.tree_size > size) problem(`signed tree head of size ${h.tree_size} is beyond the log's ${size} leaves`);
    const pending = signed.filter((h) => h.tree_size <= size);
    let nextHead = 0;

    // RFC 9162 MTH of the first c leaves as the rows are now, and as the stored leaves are.
    const fromRows = createFrontier();
    // Proofs are served from the stored interior nodes: each must be the hash of the stored leaves below it.
    let computedNodes: Array<{ level: number; index: number; hash: Hash }> = [];
    const fromLeaves = createFrontier((level, index, hash) => computedNodes.push({ level, index, hash }));
    const compareNodes = async () => {
      const byLevel = new Map<number, Array<{ index: number; hash: Hash }>>();
      for (const n of computedNodes) (byLevel.get(n.level) ?? byLevel.set(n.level, []).get(n.level)!).push(n);
      computedNodes = [];
      for (const [level, nodes] of byLevel) {
        const stored = new Map((await nodeRange(level, nodes[0]!.index, nodes[nodes.length - 1]!.index)).map((r) => [r.idx, r.hash]));
        for (const n of nodes) {
          const s = stored.get(n.index);
          if (!s) problem(`tree node (${level}, ${n.index}) is missing`);
          else if (!s.equals(n.hash)) problem(`tree node (${level}, ${n.index}) disagrees with the stored leaves below it`);
        }
      }
    };
    const checkHeadsAt = (count: number) => {
      while (nextHead < pending.length && pending[nextHead]!.tree_size === count) {
        const head = pending[nextHead++]!;
        if (!fromRows.root().equals(head.root_hash)) problem(`the first ${count} audit rows no longer hash to the signed tree head of size ${count}`);
      }
    };

    checkHeadsAt(0);
    let count = 0;
    while (count < size) {
      const batch = await page(count, Math.min(PAGE, size - count));
      if (batch.length === 0) break;
      for (const [i, leaf] of batch.entries()) {
        if (leaf.leaf_index !== count) problem(`leaf ${count} is missing from the tree`);
        let hash: Hash;
        if (leaf.id === null) {
          problem(`leaf ${leaf.leaf_index}: audit row ${leaf.audit_id} is missing (deleted or renumbered)`);
          hash = leaf.hash;
        } else {
          hash = leafHash(auditEntryBytes(leaf as AuditRow));
          if (!hash.equals(leaf.hash)) problem(`leaf ${leaf.leaf_index}: audit row ${leaf.audit_id} differs from the entry logged`);
        }
        fromRows.push(hash, leaf.leaf_index);
        fromLeaves.push(leaf.hash, leaf.leaf_index);
        count = leaf.leaf_index + 1;
        checkHeadsAt(count);
        if ((i + 1) % YIELD_EVERY === 0) await yieldToEventLoop();
      }
      await compareNodes();
      await yieldToEventLoop();
    }
    if (!(await tree.root(size)).equals(fromLeaves.root())) problem('the root from the stored tree nodes disagrees with the stored leaves');

    const result: IntegrityState = {
      status: problems.length === 0 ? 'ok' : 'tampered',
      checkedAt: toShanghaiIso(clock.now()),
      treeSize: size,
      headsChecked: pending.length,
      problems,
    };
    if (result.status === 'tampered') log.error({ problems }, 'audit log integrity check failed');
    return result;
  };

  return {
    check() {
      running ??= run()
        .then((s) => (state = s))
        .finally(() => {
          running = undefined;
        });
      return running;
    },
    state: () => state,
  };
}
