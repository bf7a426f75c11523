import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openSqlDb, type SqlDb } from '../../../src/db/sql-db.js';
import { openDatabase } from '../../../src/db/sqlite.js';
import { createAuditTree, inclusionPath, verifyConsistency, verifyInclusion, type AuditTree } from '../../../src/trust/index.js';
import { completedByAppend, leafHash, nodeHash, type Hash, type PerfectNode } from '../../../src/trust/merkle.js';
import { trustMigration } from '../../../src/trust/schema.js';
import { leaf, mth, path, proof } from '../../support/rfc9162-oracle.js';

const entry = (i: number) => Buffer.from(`entry ${i}`);
const hex = (hs: Buffer[]) => hs.map((h) => h.toString('hex'));

let dir: string;
let db: SqlDb;
let tree: AuditTree;
const entries: Buffer[] = [];

/** The perfect subtrees of `leaves` held in memory, as the tree store holds them in its tables. */
function inMemoryPerfect(leaves: readonly Buffer[]): PerfectNode {
  const nodes = new Map<string, Hash>();
  leaves.forEach((e, i) => {
    let hash = leafHash(e);
    nodes.set(`0/${i}`, hash);
    for (const node of completedByAppend(i)) {
      hash = nodeHash(nodes.get(`${node.level - 1}/${node.index * 2}`)!, hash);
      nodes.set(`${node.level}/${node.index}`, hash);
    }
  });
  return (level, index) => {
    const hash = nodes.get(`${level}/${index}`);
    if (!hash) throw new Error(`no perfect subtree (${level}, ${index})`);
    return hash;
  };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gw-merkle-'));
  const file = join(dir, 't.db');
  const ddl = openDatabase(file);
  ddl.exec('CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at INTEGER, actor TEXT, action TEXT, subject TEXT, details TEXT)');
  ddl.exec(trustMigration.up as string);
  ddl.close();
  db = openSqlDb({ kind: 'sqlite', file });
  tree = createAuditTree(db);
  entries.length = 0;
  for (let i = 0; i < 40; i++) {
    entries.push(entry(i));
    await tree.append(i + 1, entry(i));
  }
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the audit tree (RFC 9162 §2.1) against the RFC written out recursively', () => {
  it('has the RFC root at every size, including the empty tree', async () => {
    for (let n = 0; n <= entries.length; n++) expect((await tree.root(n)).toString('hex'), `size ${n}`).toBe(mth(entries.slice(0, n)).toString('hex'));
  });

  it('gives the RFC inclusion path for every leaf of every size, and it verifies', async () => {
    for (let n = 1; n <= entries.length; n++) {
      const root = mth(entries.slice(0, n));
      for (let m = 0; m < n; m++) {
        const got = await tree.inclusion(m, n);
        expect(hex(got), `PATH(${m}, D[${n}])`).toEqual(hex(path(m, entries.slice(0, n))));
        expect(verifyInclusion(leaf(entries[m]!), m, n, got, root)).toBe(true);
      }
    }
  });

  it('gives the RFC consistency proof for every pair of sizes, and it verifies', async () => {
    for (let n = 1; n <= entries.length; n++) {
      for (let m = 1; m <= n; m++) {
        const got = await tree.consistency(m, n);
        expect(hex(got), `PROOF(${m}, D[${n}])`).toEqual(hex(proof(m, entries.slice(0, n))));
        expect(verifyConsistency(m, n, got, mth(entries.slice(0, m)), mth(entries.slice(0, n)))).toBe(true);
      }
    }
  });

  it('rejects a proof for another leaf, another root, a changed path or a rewritten prefix', async () => {
    const n = 37;
    const root = mth(entries.slice(0, n));
    const p = await tree.inclusion(12, n);
    expect(verifyInclusion(leaf(entries[13]!), 12, n, p, root)).toBe(false);
    expect(verifyInclusion(leaf(entries[12]!), 13, n, p, root)).toBe(false);
    expect(verifyInclusion(leaf(entries[12]!), 12, n, p, mth(entries.slice(0, n - 1)))).toBe(false);
    expect(verifyInclusion(leaf(entries[12]!), 12, n, p.slice(1), root)).toBe(false);
    const c = await tree.consistency(20, n);
    const rewritten = [...entries.slice(0, 20)];
    rewritten[3] = Buffer.from('changed');
    expect(verifyConsistency(20, n, c, mth(rewritten), root)).toBe(false);
    expect(verifyConsistency(20, n, c.slice(0, -1), mth(entries.slice(0, 20)), root)).toBe(false);
    expect(verifyConsistency(21, n, c, mth(entries.slice(0, 20)), root)).toBe(false);
  });

  it('agrees with the RFC for random sizes and indices up to 300 leaves', async () => {
    for (let i = 40; i < 300; i++) {
      entries.push(entry(i));
      await tree.append(i + 1, entry(i));
    }
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), async (n, mSeed, fromSeed) => {
        const m = mSeed % n;
        const from = 1 + (fromSeed % n);
        const prefix = entries.slice(0, n);
        expect(hex(await tree.inclusion(m, n))).toEqual(hex(path(m, prefix)));
        expect(hex(await tree.consistency(from, n))).toEqual(hex(proof(from, prefix)));
        expect((await tree.root(n)).equals(mth(prefix))).toBe(true);
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it('reads O(log n) stored nodes for a proof', async () => {
    // Count lookups of perfect subtrees (held in memory as the store holds them) during a proof computation.
    let reads = 0;
    const perfect = inMemoryPerfect(entries);
    const counting = (level: number, index: number) => {
      reads++;
      return perfect(level, index);
    };
    // 39 of 40 leaves: 6 levels; the path has 6 hashes, the one non-perfect right subtree costs 2 reads.
    const got = inclusionPath(counting, 5, 40);
    expect(hex(got)).toEqual(hex(path(5, entries)));
    expect(hex(got)).toEqual(hex(await tree.inclusion(5, 40)));
    expect(reads).toBeLessThanOrEqual(2 * 6);
    expect(reads).toBeGreaterThanOrEqual(6);
  });
});
