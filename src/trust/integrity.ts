import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import type { SqliteDb } from '../db/sqlite.js';
import type { Logger } from '../log.js';
import { toShanghaiIso } from '../time/shanghai.js';
import { auditEntryBytes, type AuditRow } from './audit-entry.js';
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

/** Rows per read: about 50 ms of hashing on a slow core before the event loop gets a turn. */
const CHUNK = 2000;
const MAX_PROBLEMS = 20;

interface LeafJoin extends Partial<AuditRow> {
  leafIndex: number;
  auditId: number;
  hash: Buffer;
}

/**
 * RFC 9162 gives auditors consistency proofs against heads they saved; this is the gateway's own
 * check of the same property against the heads it has signed (audit_tree_heads). An edited row no
 * longer hashes to its leaf; a deleted or renumbered row leaves its leaf without a row; an added
 * or moved row changes the row count or the ids in the entry bytes; and even with the leaf and
 * node tables rewritten to match, the root recomputed from the rows differs from the signed heads.
 * Only an attacker holding the signing key and rewriting the heads too gets past this check —
 * and not past an auditor's saved head (`gateway verify-log`).
 */
export function createIntegrityChecker(options: { db: SqliteDb; clock: Clock; log: Logger; tree: AuditTree }): IntegrityChecker {
  const { db, clock, log, tree } = options;
  const rowCount = db.prepare('SELECT count(*) FROM audit_log').pluck();
  const chunk = db.prepare(`
    SELECT l.leaf_index AS leafIndex, l.audit_id AS auditId, l.hash, a.id, a.at, a.actor, a.action, a.subject, a.details
    FROM audit_leaves l LEFT JOIN audit_log a ON a.id = l.audit_id
    WHERE l.leaf_index >= ? ORDER BY l.leaf_index LIMIT ?`);
  const heads = db.prepare('SELECT tree_size AS treeSize, root_hash AS rootHash FROM audit_tree_heads ORDER BY tree_size');
  let state: IntegrityState = { status: 'unchecked', problems: [] };
  let running: Promise<IntegrityState> | undefined;

  const run = async (): Promise<IntegrityState> => {
    const problems: string[] = [];
    const problem = (p: string) => {
      if (problems.length < MAX_PROBLEMS) problems.push(p);
    };
    const size = tree.size();
    const rows = rowCount.get() as number;
    if (rows !== size) problem(`audit_log has ${rows} rows but the log has ${size} leaves`);
    const signed = heads.all() as Array<{ treeSize: number; rootHash: Buffer }>;
    for (const h of signed) if (h.treeSize > size) problem(`signed tree head of size ${h.treeSize} is beyond the log's ${size} leaves`);
    const pending = signed.filter((h) => h.treeSize <= size);
    let nextHead = 0;

    // RFC 9162 MTH of the first c leaves as they are now: a stack of perfect subtrees, largest first.
    const stack: Array<{ size: number; hash: Hash }> = [];
    const rootOfStack = (): Hash => {
      if (stack.length === 0) return EMPTY_ROOT;
      let r = stack[stack.length - 1]!.hash;
      for (let i = stack.length - 2; i >= 0; i--) r = nodeHash(stack[i]!.hash, r);
      return r;
    };
    const checkHeadsAt = (count: number) => {
      while (nextHead < pending.length && pending[nextHead]!.treeSize === count) {
        const head = pending[nextHead++]!;
        if (!rootOfStack().equals(head.rootHash)) problem(`the first ${count} audit rows no longer hash to the signed tree head of size ${count}`);
      }
    };

    checkHeadsAt(0);
    let count = 0;
    while (count < size) {
      const batch = chunk.all(count, Math.min(CHUNK, size - count)) as LeafJoin[];
      if (batch.length === 0) break;
      for (const leaf of batch) {
        if (leaf.leafIndex !== count) problem(`leaf ${count} is missing from the tree`);
        let hash: Hash;
        if (leaf.id === undefined || leaf.id === null) {
          problem(`leaf ${leaf.leafIndex}: audit row ${leaf.auditId} is missing (deleted or renumbered)`);
          hash = leaf.hash;
        } else {
          hash = leafHash(auditEntryBytes(leaf as AuditRow));
          if (!hash.equals(leaf.hash)) problem(`leaf ${leaf.leafIndex}: audit row ${leaf.auditId} differs from the entry logged`);
        }
        stack.push({ size: 1, hash });
        while (stack.length >= 2 && stack[stack.length - 1]!.size === stack[stack.length - 2]!.size) {
          const right = stack.pop()!;
          const left = stack.pop()!;
          stack.push({ size: left.size * 2, hash: nodeHash(left.hash, right.hash) });
        }
        count = leaf.leafIndex + 1;
        checkHeadsAt(count);
      }
      await yieldToEventLoop();
    }
    if (size > 0 && !tree.root(size).equals(rootOfStack())) problem('the stored tree nodes disagree with the audit rows');

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
