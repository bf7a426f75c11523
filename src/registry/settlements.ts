import { toShanghaiIso } from '../time/shanghai.js';
import { APPLICATION_ORDER } from './applications.js';
import type { Actor, RegistryContext } from './context.js';

/** One approved, unsettled application as the finance office sees it, in settlement order. */
export interface SettlementLine {
  position: number;
  applicationId: number;
  contractId: string;
  enterprise: { id: string; name: string; creditCode: string };
  supplier: { id: string; name: string };
  catalogId: number;
  clusterPilot: boolean;
  submittedAt: string;
  approvedAt: string;
  payableFen: number;
}

export interface SettlementBatch {
  id: number;
  createdAt: string;
  actor: string;
  budgetFen: number | null;
  totalFen: number;
  applicationIds: number[];
}

export interface Settlements {
  /**
   * Approved, unsettled applications of contracts still admitted (SPEC rule 11: a contract whose
   * quota was lowered after approval waits, unpaid, until it is admitted again): cluster pilots
   * first, then application time, then id (37号 §一).
   */
  queue(): SettlementLine[];
  /**
   * Settles the queue in order until the next application would exceed the budget (the order
   * is the notice's, so a later, smaller one does not jump ahead). One IMMEDIATE transaction:
   * the batch row, every application's approved → settled, and the audit entries, or nothing.
   * Undefined when nothing fits.
   */
  settle(budgetFen: number | null, render: (batchId: number, lines: SettlementLine[]) => string, actor: Actor): SettlementBatch | undefined;
  get(id: number): SettlementBatch | undefined;
  csv(id: number): string | undefined;
  list(): SettlementBatch[];
}

interface QueueRow {
  id: number;
  contract_id: string;
  enterprise_id: string;
  enterprise_name: string;
  credit_code: string;
  supplier_id: string;
  supplier_name: string;
  catalog_id: number;
  cluster_pilot: number;
  submitted_at: number;
  decided_at: number;
  payable_fen: number;
}

interface BatchRow {
  id: number;
  created_at: number;
  actor: string;
  budget_fen: number | null;
  total_fen: number;
}

export function createSettlements(ctx: RegistryContext): Settlements {
  const { db, clock, audit } = ctx;
  const queue = db.prepare(`
    SELECT a.id, a.contract_id, e.id AS enterprise_id, e.name AS enterprise_name, e.credit_code, s.id AS supplier_id,
           s.name AS supplier_name, c.catalog_id, a.cluster_pilot, a.submitted_at, a.decided_at, a.payable_fen
    FROM redemption_applications a
      JOIN contracts c ON c.id = a.contract_id JOIN enterprises e ON e.id = c.enterprise_id JOIN suppliers s ON s.id = a.supplier_id
    WHERE a.state = 'approved' AND c.status = 'admitted' ORDER BY ${APPLICATION_ORDER.split(', ').map((col) => `a.${col}`).join(', ')}`);
  const settleOne = db.prepare(`UPDATE redemption_applications SET state = 'settled', settled_at = ?, settlement_batch_id = ?
    WHERE id = ? AND state = 'approved'`);
  const batchById = db.prepare('SELECT id, created_at, actor, budget_fen, total_fen FROM settlement_batches WHERE id = ?');
  const batches = db.prepare('SELECT id, created_at, actor, budget_fen, total_fen FROM settlement_batches ORDER BY id');
  const appsOfBatch = db.prepare(`SELECT id FROM redemption_applications WHERE settlement_batch_id = ? ORDER BY ${APPLICATION_ORDER}`);
  const csvOf = db.prepare('SELECT csv FROM settlement_batches WHERE id = ?');

  const lines = (): SettlementLine[] =>
    (queue.all() as QueueRow[]).map((r, i) => ({
      position: i + 1,
      applicationId: r.id,
      contractId: r.contract_id,
      enterprise: { id: r.enterprise_id, name: r.enterprise_name, creditCode: r.credit_code },
      supplier: { id: r.supplier_id, name: r.supplier_name },
      catalogId: r.catalog_id,
      clusterPilot: r.cluster_pilot === 1,
      submittedAt: toShanghaiIso(r.submitted_at),
      approvedAt: toShanghaiIso(r.decided_at),
      payableFen: r.payable_fen,
    }));
  const batch = (row: BatchRow): SettlementBatch => ({
    id: row.id,
    createdAt: toShanghaiIso(row.created_at),
    actor: row.actor,
    budgetFen: row.budget_fen,
    totalFen: row.total_fen,
    applicationIds: (appsOfBatch.all(row.id) as { id: number }[]).map((r) => r.id),
  });

  const insertBatch = db.prepare(`INSERT INTO settlement_batches (id, created_at, actor, budget_fen, total_fen, application_count, csv)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const nextBatchId = db.prepare(`SELECT coalesce(max(id), 0) + 1 AS id FROM settlement_batches`);

  return {
    queue: lines,
    settle: (budgetFen, render, actor) =>
      db.transaction(() => {
        const chosen: SettlementLine[] = [];
        let total = 0;
        for (const line of lines()) {
          if (budgetFen !== null && total + line.payableFen > budgetFen) break;
          chosen.push(line);
          total += line.payableFen;
        }
        if (chosen.length === 0) return undefined;
        const now = clock.now();
        // Inside an IMMEDIATE transaction no other writer can take this id between the read and the insert.
        const id = (nextBatchId.get() as { id: number }).id;
        insertBatch.run(id, now, actor, budgetFen, total, chosen.length, render(id, chosen));
        for (const line of chosen) {
          if (settleOne.run(now, id, line.applicationId).changes !== 1) throw new Error(`application ${line.applicationId} left the queue during settlement`);
          audit.append(actor, 'redemption.settle', line.contractId, { applicationId: line.applicationId, batchId: id, payableFen: line.payableFen });
        }
        audit.append(actor, 'settlement.batch', `settlement:${id}`, { batchId: id, budgetFen, totalFen: total, applicationIds: chosen.map((l) => l.applicationId) });
        return batch(batchById.get(id) as BatchRow);
      }).immediate(),
    get: (id) => {
      const row = batchById.get(id) as BatchRow | undefined;
      return row && batch(row);
    },
    csv: (id) => (csvOf.get(id) as { csv: string } | undefined)?.csv,
    list: () => (batches.all() as BatchRow[]).map(batch),
  };
}
