import { sql } from 'kysely';
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
  queue(): Promise<SettlementLine[]>;
  /**
   * Settles the queue in order until the next application would exceed the budget (the order
   * is the notice's, so a later, smaller one does not jump ahead). One write transaction
   * (serialised with every other registry write: SqlDb.transaction): the batch row, every
   * application's approved → settled, and the audit entries, or nothing. Undefined when nothing fits.
   */
  settle(budgetFen: number | null, render: (batchId: number, lines: SettlementLine[]) => string, actor: Actor): Promise<SettlementBatch | undefined>;
  get(id: number): Promise<SettlementBatch | undefined>;
  csv(id: number): Promise<string | undefined>;
  list(): Promise<SettlementBatch[]>;
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

const QUEUE_ORDER = APPLICATION_ORDER.split(', ').map((col) => `a.${col}`).join(', ');

export function createSettlements(ctx: RegistryContext): Settlements {
  const { sql: db, clock, audit } = ctx;

  const lines = async (): Promise<SettlementLine[]> =>
    (
      await db.all<QueueRow>(sql`
        SELECT a.id, a.contract_id, e.id AS enterprise_id, e.name AS enterprise_name, e.credit_code, s.id AS supplier_id,
               s.name AS supplier_name, c.catalog_id, a.cluster_pilot, a.submitted_at, a.decided_at, a.payable_fen
        FROM redemption_applications a
          JOIN contracts c ON c.id = a.contract_id JOIN enterprises e ON e.id = c.enterprise_id JOIN suppliers s ON s.id = a.supplier_id
        WHERE a.state = 'approved' AND c.status = 'admitted' ORDER BY ${sql.raw(QUEUE_ORDER)}`)
    ).map((r, i) => ({
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
  const batch = async (row: BatchRow): Promise<SettlementBatch> => ({
    id: row.id,
    createdAt: toShanghaiIso(row.created_at),
    actor: row.actor,
    budgetFen: row.budget_fen,
    totalFen: row.total_fen,
    applicationIds: (
      await db.all<{ id: number }>(sql`SELECT id FROM redemption_applications WHERE settlement_batch_id = ${row.id} ORDER BY ${sql.raw(APPLICATION_ORDER)}`)
    ).map((r) => r.id),
  });
  const batchRow = (id: number) => db.one<BatchRow>(sql`SELECT id, created_at, actor, budget_fen, total_fen FROM settlement_batches WHERE id = ${id}`);

  return {
    queue: lines,
    settle: (budgetFen, render, actor) =>
      db.transaction(async () => {
        const chosen: SettlementLine[] = [];
        let total = 0;
        for (const line of await lines()) {
          if (budgetFen !== null && total + line.payableFen > budgetFen) break;
          chosen.push(line);
          total += line.payableFen;
        }
        if (chosen.length === 0) return undefined;
        const now = clock.now();
        // Read and insert in one write transaction: SQLite's single writer, and on PostgreSQL the
        // registry's advisory lock (SqlDb.transaction), keep another writer from taking this id between them.
        const next = await db.one<{ id: number }>(sql`SELECT coalesce(max(id), 0) + 1 AS id FROM settlement_batches`);
        const id = Number(next!.id);
        await db.run(sql`INSERT INTO settlement_batches (id, created_at, actor, budget_fen, total_fen, application_count, csv)
          VALUES (${id}, ${now}, ${actor}, ${budgetFen}, ${total}, ${chosen.length}, ${render(id, chosen)})`);
        for (const line of chosen) {
          const changes = await db.run(sql`UPDATE redemption_applications SET state = 'settled', settled_at = ${now}, settlement_batch_id = ${id}
            WHERE id = ${line.applicationId} AND state = 'approved'`);
          if (changes !== 1) throw new Error(`application ${line.applicationId} left the queue during settlement`);
          await audit.append(actor, 'redemption.settle', line.contractId, { applicationId: line.applicationId, batchId: id, payableFen: line.payableFen });
        }
        await audit.append(actor, 'settlement.batch', `settlement:${id}`, { batchId: id, budgetFen, totalFen: total, applicationIds: chosen.map((l) => l.applicationId) });
        return batch((await batchRow(id))!);
      }),
    async get(id) {
      const row = await batchRow(id);
      return row && (await batch(row));
    },
    csv: async (id) => (await db.one<{ csv: string }>(sql`SELECT csv FROM settlement_batches WHERE id = ${id}`))?.csv,
    async list() {
      const result: SettlementBatch[] = [];
      for (const row of await db.all<BatchRow>(sql`SELECT id, created_at, actor, budget_fen, total_fen FROM settlement_batches ORDER BY id`)) result.push(await batch(row));
      return result;
    },
  };
}
