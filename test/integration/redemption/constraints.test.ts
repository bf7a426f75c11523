/**
 * The database itself keeps money from being paid twice (SPEC rule 12): partial unique
 * indexes and triggers on redemption_applications, exercised with raw SQL — from two
 * connections in two threads released at the same instant — so no application code stands
 * between the attempt and the constraint.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedSupplierContract, openTestRegistry, stubEngine, type TestRegistry } from '../../unit/registry/fixtures.js';

const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

/** One connection in its own thread: waits at the barrier, runs one statement, reports. */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.betterSqlite);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const flag = new Int32Array(workerData.barrier);
Atomics.add(flag, 1, 1);
Atomics.wait(flag, 0, 0);
try {
  parentPort.postMessage({ changes: db.prepare(workerData.sql).run(...workerData.params).changes });
} catch (err) {
  parentPort.postMessage({ error: err.code ?? String(err) });
} finally {
  db.close();
}`;

type Outcome = { changes?: number; error?: string };

/** Runs each statement on its own connection, all released together. */
async function race(file: string, statements: Array<{ sql: string; params: unknown[] }>): Promise<Outcome[]> {
  const barrier = new SharedArrayBuffer(8);
  const flag = new Int32Array(barrier);
  const results = statements.map(
    ({ sql, params }) =>
      new Promise<Outcome>((resolve, reject) => {
        const worker = new Worker(WORKER, { eval: true, workerData: { betterSqlite, file, sql, params, barrier } });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
  while (Atomics.load(flag, 1) < statements.length) await new Promise((r) => setTimeout(r, 1));
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  return Promise.all(results);
}

const INSERT = `INSERT INTO redemption_applications (contract_id, supplier_id, program, cluster_pilot, state, submitted_at, submitted_by,
  evidence, recommendation, voucher_fen, payable_fen, report_digest) VALUES (?, ?, 2020, 0, 'submitted', 1, 'k', '{}', '{}', 700000, 700000, 'sha256:x')`;
const APPROVE = `UPDATE redemption_applications SET state = 'approved', decided_at = 2, decided_by = ? WHERE id = ? AND state = 'submitted'`;

let t: TestRegistry;
let file: string;
let ids: { supplierId: string; contractId: string };
beforeEach(async () => {
  t = await openTestRegistry({ engine: stubEngine });
  file = t.db.name;
  ids = await seedSupplierContract(t.registry);
});
afterEach(() => t.close());

const insert = () => Number(t.db.prepare(INSERT).run(ids.contractId, ids.supplierId).lastInsertRowid);
const states = () => (t.db.prepare('SELECT state FROM redemption_applications WHERE contract_id = ? ORDER BY id').all(ids.contractId) as { state: string }[]).map((r) => r.state);

describe('redemption_applications constraints under concurrency', () => {
  it('two connections approving one application at once: exactly one changes it', async () => {
    const id = insert();
    const outcomes = await race(file, [
      { sql: APPROVE, params: ['reviewer-a', id] },
      { sql: APPROVE, params: ['reviewer-b', id] },
    ]);
    expect(outcomes.map((o) => o.changes).sort()).toEqual([0, 1]);
    expect(states()).toEqual(['approved']);
  });

  it('two connections submitting for one contract at once: the second open application is refused', async () => {
    const outcomes = await race(file, [
      { sql: INSERT, params: [ids.contractId, ids.supplierId] },
      { sql: INSERT, params: [ids.contractId, ids.supplierId] },
    ]);
    expect(outcomes.filter((o) => o.changes === 1)).toHaveLength(1);
    expect(outcomes.filter((o) => o.error === 'SQLITE_CONSTRAINT_UNIQUE')).toHaveLength(1);
    expect(states()).toEqual(['submitted']);
  });

  it('approvals forced past the state guard after a settled payout: the one-payout index refuses both', async () => {
    // A settled payout, then a new submitted application: approving it would be a second payout.
    const first = insert();
    t.db.prepare(APPROVE).run('r', first);
    t.db.prepare(`INSERT INTO settlement_batches (id, created_at, actor, budget_fen, total_fen, application_count, csv) VALUES (1, 3, 'a', NULL, 700000, 1, '')`).run();
    t.db.prepare(`UPDATE redemption_applications SET state = 'settled', settled_at = 3, settlement_batch_id = 1 WHERE id = ?`).run(first);
    const second = insert();
    const forced = `UPDATE redemption_applications SET state = 'approved', decided_at = 4, decided_by = ? WHERE id = ?`;
    const outcomes = await race(file, [
      { sql: forced, params: ['reviewer-a', second] },
      { sql: forced, params: ['reviewer-b', second] },
    ]);
    expect(outcomes.every((o) => o.error === 'SQLITE_CONSTRAINT_UNIQUE')).toBe(true);
    expect(states()).toEqual(['settled', 'submitted']);
  });
});

describe('redemption_applications lifecycle in the database', () => {
  const abort = (fn: () => unknown) => expect(fn).toThrow(/illegal redemption application transition|frozen|never deleted|CHECK constraint|settlement batches are final/);

  it('allows only the lifecycle transitions', () => {
    const id = insert();
    abort(() => t.db.prepare(`UPDATE redemption_applications SET state = 'settled', settled_at = 1, settlement_batch_id = NULL WHERE id = ?`).run(id));
    t.db.prepare(`UPDATE redemption_applications SET state = 'rejected', decided_at = 2, decided_by = 'r', decision_reason = 'no' WHERE id = ?`).run(id);
    abort(() => t.db.prepare(`UPDATE redemption_applications SET state = 'submitted', decided_at = NULL, decided_by = NULL WHERE id = ?`).run(id));
    abort(() => t.db.prepare(`UPDATE redemption_applications SET state = 'approved' WHERE id = ?`).run(id));
  });

  it('freezes the amounts once decided and never deletes', () => {
    const id = insert();
    t.db.prepare(APPROVE).run('r', id);
    abort(() => t.db.prepare('UPDATE redemption_applications SET payable_fen = 1 WHERE id = ?').run(id));
    abort(() => t.db.prepare('DELETE FROM redemption_applications WHERE id = ?').run(id));
  });

  it('refuses a payable above the voucher, a rejection without a reason, a batch above its budget', () => {
    abort(() => t.db.prepare(INSERT.replace('700000, 700000', '700000, 700001')).run(ids.contractId, ids.supplierId));
    const id = insert();
    abort(() => t.db.prepare(`UPDATE redemption_applications SET state = 'rejected', decided_at = 2, decided_by = 'r' WHERE id = ?`).run(id));
    abort(() => t.db.prepare(`INSERT INTO settlement_batches (created_at, actor, budget_fen, total_fen, application_count, csv) VALUES (1, 'a', 100, 101, 1, '')`).run());
  });
});
