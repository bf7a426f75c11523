import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openDatabase, type SqliteDb } from '../../../src/db/sqlite.js';
import { createAuditTree, inclusionPath, verifyConsistency, verifyInclusion, type AuditTree } from '../../../src/trust/index.js';
import { trustMigration } from '../../../src/trust/schema.js';
import { leaf, mth, path, proof } from '../../support/rfc9162-oracle.js';

const entry = (i: number) => Buffer.from(`entry ${i}`);
const hex = (hs: Buffer[]) => hs.map((h) => h.toString('hex'));

let dir: string;
let db: SqliteDb;
let tree: AuditTree;
const entries: Buffer[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-merkle-'));
  db = openDatabase(join(dir, 't.db'));
  db.exec('CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at INTEGER, actor TEXT, action TEXT, subject TEXT, details TEXT)');
  (trustMigration.up as (db: SqliteDb) => void)(db);
  tree = createAuditTree(db);
  entries.length = 0;
  for (let i = 0; i < 40; i++) {
    entries.push(entry(i));
    tree.append(i + 1, entry(i));
  }
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the audit tree (RFC 9162 §2.1) against the RFC written out recursively', () => {
  it('has the RFC root at every size, including the empty tree', () => {
    for (let n = 0; n <= entries.length; n++) expect(tree.root(n).toString('hex'), `size ${n}`).toBe(mth(entries.slice(0, n)).toString('hex'));
  });

  it('gives the RFC inclusion path for every leaf of every size, and it verifies', () => {
    for (let n = 1; n <= entries.length; n++) {
      const root = mth(entries.slice(0, n));
      for (let m = 0; m < n; m++) {
        const got = tree.inclusion(m, n);
        expect(hex(got), `PATH(${m}, D[${n}])`).toEqual(hex(path(m, entries.slice(0, n))));
        expect(verifyInclusion(leaf(entries[m]!), m, n, got, root)).toBe(true);
      }
    }
  });

  it('gives the RFC consistency proof for every pair of sizes, and it verifies', () => {
    for (let n = 1; n <= entries.length; n++) {
      for (let m = 1; m <= n; m++) {
        const got = tree.consistency(m, n);
        expect(hex(got), `PROOF(${m}, D[${n}])`).toEqual(hex(proof(m, entries.slice(0, n))));
        expect(verifyConsistency(m, n, got, mth(entries.slice(0, m)), mth(entries.slice(0, n)))).toBe(true);
      }
    }
  });

  it('rejects a proof for another leaf, another root, a changed path or a rewritten prefix', () => {
    const n = 37;
    const root = mth(entries.slice(0, n));
    const p = tree.inclusion(12, n);
    expect(verifyInclusion(leaf(entries[13]!), 12, n, p, root)).toBe(false);
    expect(verifyInclusion(leaf(entries[12]!), 13, n, p, root)).toBe(false);
    expect(verifyInclusion(leaf(entries[12]!), 12, n, p, mth(entries.slice(0, n - 1)))).toBe(false);
    expect(verifyInclusion(leaf(entries[12]!), 12, n, p.slice(1), root)).toBe(false);
    const c = tree.consistency(20, n);
    const rewritten = [...entries.slice(0, 20)];
    rewritten[3] = Buffer.from('changed');
    expect(verifyConsistency(20, n, c, mth(rewritten), root)).toBe(false);
    expect(verifyConsistency(20, n, c.slice(0, -1), mth(entries.slice(0, 20)), root)).toBe(false);
    expect(verifyConsistency(21, n, c, mth(entries.slice(0, 20)), root)).toBe(false);
  });

  it('agrees with the RFC for random sizes and indices up to 300 leaves', () => {
    for (let i = 40; i < 300; i++) {
      entries.push(entry(i));
      tree.append(i + 1, entry(i));
    }
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), (n, mSeed, fromSeed) => {
        const m = mSeed % n;
        const from = 1 + (fromSeed % n);
        const prefix = entries.slice(0, n);
        expect(hex(tree.inclusion(m, n))).toEqual(hex(path(m, prefix)));
        expect(hex(tree.consistency(from, n))).toEqual(hex(proof(from, prefix)));
        expect(tree.root(n).equals(mth(prefix))).toBe(true);
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it('reads O(log n) stored nodes for a proof', () => {
    // Count lookups through the public `perfect` accessor wrapped around a proof computation.
    let reads = 0;
    const counting = (level: number, index: number) => {
      reads++;
      return tree.perfect(level, index);
    };
    // 39 of 40 leaves: 6 levels; the path has 6 hashes, the one non-perfect right subtree costs 2 reads.
    inclusionPath(counting, 5, 40);
    expect(reads).toBeLessThanOrEqual(2 * 6);
    expect(reads).toBeGreaterThanOrEqual(6);
  });
});
