import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Migration } from '../db/sqlite.js';
import { AppError, badRequest, notFound } from '../errors.js';
import { toShanghaiIso } from '../time/shanghai.js';
import type { Actor, RegistryContext } from './context.js';

/**
 * Spot checks (抽查, 37号 §三(二); SPEC rule 14): a reproducible sample of approved or settled
 * applications, each outcome recorded once; a failed check on a settled application marks it
 * for recovery (追回) — a record of its own, the application is never silently reversed — and
 * a supplier's quota adjustment may cite recorded outcomes.
 */
export const spotChecksMigration: Migration = {
  version: 4,
  description: 'spot checks (抽查) with their seed and outcomes, recoveries (追回), quota adjustments citing outcomes',
  up: `
    CREATE TABLE spot_checks (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      drawn_at INTEGER NOT NULL,
      actor TEXT NOT NULL,
      seed TEXT NOT NULL CHECK (length(seed) BETWEEN 1 AND 200),
      rule TEXT NOT NULL,
      population TEXT NOT NULL,
      sample TEXT NOT NULL
    );
    CREATE TRIGGER spot_checks_no_update BEFORE UPDATE ON spot_checks BEGIN SELECT RAISE(ABORT, 'a spot check draw is final'); END;
    CREATE TRIGGER spot_checks_no_delete BEFORE DELETE ON spot_checks BEGIN SELECT RAISE(ABORT, 'a spot check draw is final'); END;

    CREATE TABLE spot_check_items (
      spot_check_id INTEGER NOT NULL REFERENCES spot_checks (id),
      application_id INTEGER NOT NULL REFERENCES redemption_applications (id),
      outcome TEXT CHECK (outcome IS NULL OR outcome IN ('ok', 'devices-missing', 'evidence-forged', 'other')),
      note TEXT,
      actor TEXT,
      at INTEGER,
      PRIMARY KEY (spot_check_id, application_id),
      CHECK ((outcome IS NULL) = (at IS NULL)),
      CHECK (outcome IS NULL OR outcome = 'ok' OR length(trim(coalesce(note, ''))) > 0)
    ) WITHOUT ROWID;
    CREATE TRIGGER spot_check_items_once BEFORE UPDATE ON spot_check_items WHEN OLD.outcome IS NOT NULL
      BEGIN SELECT RAISE(ABORT, 'a spot-check outcome is recorded once'); END;
    CREATE TRIGGER spot_check_items_no_delete BEFORE DELETE ON spot_check_items BEGIN SELECT RAISE(ABORT, 'spot-check items are never deleted'); END;

    CREATE TABLE recoveries (
      application_id INTEGER PRIMARY KEY REFERENCES redemption_applications (id),
      spot_check_id INTEGER NOT NULL REFERENCES spot_checks (id),
      amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
      reason TEXT NOT NULL,
      actor TEXT NOT NULL,
      at INTEGER NOT NULL
    );
    CREATE TRIGGER recoveries_no_delete BEFORE DELETE ON recoveries BEGIN SELECT RAISE(ABORT, 'a recovery mark is never removed'); END;

    CREATE TABLE quota_adjustments (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      supplier_id TEXT NOT NULL REFERENCES suppliers (id),
      from_fen INTEGER NOT NULL,
      to_fen INTEGER NOT NULL CHECK (to_fen >= 0),
      reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
      cited_outcomes TEXT NOT NULL,
      actor TEXT NOT NULL,
      at INTEGER NOT NULL
    );
  `,
};

export const SPOT_CHECK_OUTCOMES = ['ok', 'devices-missing', 'evidence-forged', 'other'] as const;
export type SpotCheckOutcome = (typeof SPOT_CHECK_OUTCOMES)[number];

export interface SpotCheckItem {
  applicationId: number;
  contractId: string;
  supplierId: string;
  state: string;
  outcome: SpotCheckOutcome | null;
  note: string | null;
  by: string | null;
  at: string | null;
  recovery: { amountFen: number; at: string } | null;
}

export interface SpotCheck {
  id: number;
  drawnAt: string;
  actor: string;
  seed: string;
  rule: { count: number } | { percent: number };
  filter: { supplierId?: string };
  /** Approved or settled applications eligible when drawn, by id. */
  population: number[];
  items: SpotCheckItem[];
}

export interface Recovery {
  applicationId: number;
  contractId: string;
  supplierId: string;
  spotCheckId: number;
  amountFen: number;
  reason: string;
  by: string;
  at: string;
}

export interface QuotaAdjustment {
  id: number;
  supplierId: string;
  fromFen: number;
  toFen: number;
  reason: string;
  citedOutcomes: Array<{ spotCheckId: number; applicationId: number; outcome: SpotCheckOutcome }>;
  by: string;
  at: string;
}

export interface SpotChecks {
  draw(input: { seed: string; rule: { count: number } | { percent: number }; supplierId?: string }, actor: Actor): Promise<SpotCheck>;
  get(id: number): Promise<SpotCheck | undefined>;
  list(): Promise<SpotCheck[]>;
  record(spotCheckId: number, applicationId: number, outcome: SpotCheckOutcome, note: string | null, actor: Actor): Promise<SpotCheck>;
  recoveries(supplierId?: string): Promise<Recovery[]>;
  adjustQuota(
    supplierId: string,
    input: { quotaFen: number; reason: string; cite: Array<{ spotCheckId: number; applicationId: number }> },
    actor: Actor,
  ): Promise<QuotaAdjustment>;
  quotaAdjustments(supplierId: string): Promise<QuotaAdjustment[]>;
}

/**
 * The sample: the population ordered by SHA-256(seed ‖ ':' ‖ application id), first `size` —
 * anyone with the seed and the recorded population recomputes the same draw.
 */
export function drawSample(seed: string, population: readonly number[], size: number): number[] {
  const key = (id: number) => createHash('sha256').update(`${seed}:${id}`).digest('hex');
  return [...population]
    .map((id) => ({ id, key: key(id) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id - b.id))
    .slice(0, size)
    .map((e) => e.id)
    .sort((a, b) => a - b);
}

/** Sets a supplier's quota (suppliers.ts), joining the caller's transaction: the adjustment and its record commit together. */
export type SetQuota = (id: string, quotaFen: number, actor: Actor) => Promise<unknown>;

type ItemRow = { outcome: SpotCheckOutcome | null; state: string; payable_fen: number; contract_id: string; supplier_id: string };

export function createSpotChecks(ctx: RegistryContext, setQuota: SetQuota): SpotChecks {
  const { sql: db, clock, audit } = ctx;
  const checkRow = (id: number) => db.one<CheckRow>(sql`SELECT * FROM spot_checks WHERE id = ${id}`);
  const itemOf = (spotCheckId: number, applicationId: number) =>
    db.one<ItemRow>(sql`SELECT i.outcome, a.state, a.payable_fen, a.contract_id, a.supplier_id FROM spot_check_items i
      JOIN redemption_applications a ON a.id = i.application_id WHERE i.spot_check_id = ${spotCheckId} AND i.application_id = ${applicationId}`);

  type CheckRow = { id: number; drawn_at: number; actor: string; seed: string; rule: string; population: string };
  const fromRow = async (row: CheckRow): Promise<SpotCheck> => {
    const rule = JSON.parse(row.rule) as { count?: number; percent?: number; supplierId?: string };
    const items = await db.all<Record<string, any>>(sql`SELECT i.*, a.contract_id, a.supplier_id, a.state, r.amount_fen AS recovery_fen, r.at AS recovery_at
      FROM spot_check_items i JOIN redemption_applications a ON a.id = i.application_id
      LEFT JOIN recoveries r ON r.application_id = i.application_id
      WHERE i.spot_check_id = ${row.id} ORDER BY i.application_id`);
    return {
      id: row.id,
      drawnAt: toShanghaiIso(row.drawn_at),
      actor: row.actor,
      seed: row.seed,
      rule: rule.count !== undefined ? { count: rule.count } : { percent: rule.percent! },
      filter: rule.supplierId ? { supplierId: rule.supplierId } : {},
      population: JSON.parse(row.population) as number[],
      items: items.map((i) => ({
        applicationId: i.application_id,
        contractId: i.contract_id,
        supplierId: i.supplier_id,
        state: i.state,
        outcome: i.outcome,
        note: i.note,
        by: i.actor,
        at: i.at === null ? null : toShanghaiIso(i.at),
        recovery: i.recovery_fen === null ? null : { amountFen: i.recovery_fen, at: toShanghaiIso(i.recovery_at) },
      })),
    };
  };
  type AdjustmentRow = { id: number; supplier_id: string; from_fen: number; to_fen: number; reason: string; cited_outcomes: string; actor: string; at: number };
  const adjustment = (r: AdjustmentRow): QuotaAdjustment => ({
    id: r.id,
    supplierId: r.supplier_id,
    fromFen: r.from_fen,
    toFen: r.to_fen,
    reason: r.reason,
    citedOutcomes: JSON.parse(r.cited_outcomes),
    by: r.actor,
    at: toShanghaiIso(r.at),
  });

  return {
    draw: (input, actor) =>
      db.transaction(async () => {
        let population = db.q().selectFrom('redemption_applications').select('id').where('state', 'in', ['approved', 'settled']);
        if (input.supplierId !== undefined) population = population.where('supplier_id', '=', input.supplierId);
        const ids = ((await population.orderBy('id').execute()) as { id: number }[]).map((r) => r.id);
        const size = 'count' in input.rule ? Math.min(input.rule.count, ids.length) : Math.ceil((ids.length * input.rule.percent) / 100);
        const sample = drawSample(input.seed, ids, size);
        const rule = { ...input.rule, ...(input.supplierId ? { supplierId: input.supplierId } : {}) };
        const inserted = await db.one<{ id: number }>(sql`INSERT INTO spot_checks (drawn_at, actor, seed, rule, population, sample)
          VALUES (${clock.now()}, ${actor}, ${input.seed}, ${JSON.stringify(rule)}, ${JSON.stringify(ids)}, ${JSON.stringify(sample)}) RETURNING id`);
        const id = inserted!.id;
        for (const applicationId of sample) await db.run(sql`INSERT INTO spot_check_items (spot_check_id, application_id) VALUES (${id}, ${applicationId})`);
        await audit.append(actor, 'spot-check.draw', `spot-check:${id}`, { seed: input.seed, rule, population: ids.length, sample });
        return fromRow((await checkRow(id))!);
      }),
    async get(id) {
      const row = await checkRow(id);
      return row && (await fromRow(row));
    },
    async list() {
      const result: SpotCheck[] = [];
      for (const row of await db.all<CheckRow>(sql`SELECT * FROM spot_checks ORDER BY id`)) result.push(await fromRow(row));
      return result;
    },
    record: (spotCheckId, applicationId, outcome, note, actor) =>
      db.transaction(async () => {
        const item = await itemOf(spotCheckId, applicationId);
        if (!item) throw notFound(`application in spot check ${spotCheckId}`, applicationId);
        if (item.outcome !== null) throw new AppError('GW_ERR_SPOT_CHECK_ALREADY_RECORDED', `the outcome of application ${applicationId} in spot check ${spotCheckId} is already recorded`);
        if (outcome !== 'ok' && !note?.trim()) throw badRequest('GW_ERR_REVIEW_REASON_REQUIRED', 'a failed spot check needs a note', [{ path: 'body.note', message: 'required unless the outcome is ok' }]);
        const now = clock.now();
        await db.run(sql`UPDATE spot_check_items SET outcome = ${outcome}, note = ${note?.trim() || null}, actor = ${actor}, at = ${now}
          WHERE spot_check_id = ${spotCheckId} AND application_id = ${applicationId}`);
        await audit.append(actor, 'spot-check.outcome', item.contract_id, { spotCheckId, applicationId, outcome, note });
        // 追回: a settled payout that failed its check is marked for recovery; the payment record stays as it was.
        if (outcome !== 'ok' && item.state === 'settled') {
          await db.run(sql`INSERT INTO recoveries (application_id, spot_check_id, amount_fen, reason, actor, at)
            VALUES (${applicationId}, ${spotCheckId}, ${item.payable_fen}, ${`spot check ${spotCheckId}: ${outcome}`}, ${actor}, ${now})
            ON CONFLICT (application_id) DO NOTHING`);
          await audit.append(actor, 'redemption.recovery.mark', item.contract_id, { applicationId, spotCheckId, amountFen: item.payable_fen, outcome });
        }
        return fromRow((await checkRow(spotCheckId))!);
      }),
    async recoveries(supplierId) {
      let query = db
        .q()
        .selectFrom('recoveries as r')
        .innerJoin('redemption_applications as a', 'a.id', 'r.application_id')
        .selectAll('r')
        .select(['a.contract_id', 'a.supplier_id']);
      if (supplierId !== undefined) query = query.where('a.supplier_id', '=', supplierId);
      const rows = (await query.orderBy('r.at').orderBy('r.application_id').execute()) as Array<Record<string, any>>;
      return rows.map((r) => ({
        applicationId: r.application_id,
        contractId: r.contract_id,
        supplierId: r.supplier_id,
        spotCheckId: r.spot_check_id,
        amountFen: r.amount_fen,
        reason: r.reason,
        by: r.actor,
        at: toShanghaiIso(r.at),
      }));
    },
    adjustQuota: (supplierId, input, actor) =>
      db.transaction(async () => {
        const before = await db.one<{ quota_fen: number }>(sql`SELECT quota_fen FROM suppliers WHERE id = ${supplierId}`);
        if (!before) throw notFound('supplier', supplierId);
        if (input.cite.length === 0) throw badRequest('GW_ERR_SPOT_CHECK_CITATION', 'cite at least one recorded spot-check outcome (37号 §三(二))', [{ path: 'body.cite', message: 'empty' }]);
        const cited: Array<{ spotCheckId: number; applicationId: number; outcome: SpotCheckOutcome }> = [];
        for (const [i, c] of input.cite.entries()) {
          const item = await itemOf(c.spotCheckId, c.applicationId);
          if (!item || item.outcome === null || item.supplier_id !== supplierId) {
            throw badRequest('GW_ERR_SPOT_CHECK_CITATION', `cited outcome ${i} is not a recorded spot-check outcome of this supplier`, [{ path: `body.cite.${i}`, message: 'not a recorded outcome of this supplier' }]);
          }
          cited.push({ ...c, outcome: item.outcome });
        }
        await setQuota(supplierId, input.quotaFen, actor);
        const reason = input.reason.trim();
        const row = await db.one<AdjustmentRow>(sql`INSERT INTO quota_adjustments (supplier_id, from_fen, to_fen, reason, cited_outcomes, actor, at)
          VALUES (${supplierId}, ${before.quota_fen}, ${input.quotaFen}, ${reason}, ${JSON.stringify(cited)}, ${actor}, ${clock.now()}) RETURNING *`);
        await audit.append(actor, 'supplier.quota.adjust', supplierId, { fromFen: before.quota_fen, toFen: input.quotaFen, reason, citedOutcomes: cited });
        return adjustment(row!);
      }),
    quotaAdjustments: async (supplierId) =>
      (await db.all<AdjustmentRow>(sql`SELECT * FROM quota_adjustments WHERE supplier_id = ${supplierId} ORDER BY id`)).map(adjustment),
  };
}
