import { sql } from 'kysely';
import { toShanghaiIso } from '../time/shanghai.js';
import type { Actor, RegistryContext } from './context.js';
import { JWS_TYPES } from '../trust/index.js';

/** Kind of the signed records that hold application decisions. */
const DECISION_RECORD = 'application-decision';

export const APPLICATION_STATES = ['submitted', 'approved', 'rejected', 'settled', 'withdrawn'] as const;
export type ApplicationState = (typeof APPLICATION_STATES)[number];

/** What the rules engine and the verifier recommend for an application (recomputed at decision). */
export interface Recommendation {
  decision: 'approved' | 'rejected';
  /** Evaluated at the application time (the gateway's clock when it was submitted). */
  at: string;
  admitted: boolean;
  voucherFen: number;
  payableFen: number;
  requiredDevices: number | null;
  activeDevices: number | null;
  reasons: Array<{ code: string; clause: string; effect?: string; message: string }>;
  checks: Array<{ rule: string; clause: string; passed: boolean }>;
  /** Fraud signal kinds carried by counted devices: each must be acknowledged before approval. */
  signalKinds: string[];
  reportDigest: string;
}

export interface SignalAcknowledgement {
  signal: string;
  note: string;
  by: string;
  at: string;
}

export interface RedemptionApplication {
  id: number;
  contractId: string;
  supplierId: string;
  program: number;
  clusterPilot: boolean;
  state: ApplicationState;
  submittedAt: string;
  submittedBy: string;
  evidence: Record<string, unknown>;
  recommendation: Recommendation;
  voucherFen: number;
  payableFen: number;
  reportDigest: string;
  decision: { by: string; at: string; reason: string | null; decision: 'approved' | 'rejected' } | null;
  settlement: { batchId: number; at: string } | null;
  withdrawnAt: string | null;
  acknowledgements: SignalAcknowledgement[];
  /** The decision as a compact JWS (EdDSA, src/trust), signed in the decision's transaction; absent before a decision or without a signer. */
  signedDecision?: string;
}

export interface NewApplication {
  contractId: string;
  supplierId: string;
  program: number;
  clusterPilot: boolean;
  submittedAt: number;
  idempotencyKey: string | null;
  evidence: Record<string, unknown>;
  recommendation: Recommendation;
}

export interface ApplicationFilter {
  state?: ApplicationState;
  supplierId?: string;
  contractId?: string;
}

export interface Applications {
  /** Inserts a `submitted` application (audited). The partial unique indexes refuse a second open one. */
  insert(input: NewApplication, actor: Actor): Promise<RedemptionApplication>;
  get(id: number): Promise<RedemptionApplication | undefined>;
  byIdempotencyKey(actor: Actor, key: string): Promise<RedemptionApplication | undefined>;
  /** The contract's open (submitted/approved) application, if any. */
  openOf(contractId: string): Promise<RedemptionApplication | undefined>;
  /** The contract's approved or settled application, if any: its one payout. */
  payoutOf(contractId: string): Promise<RedemptionApplication | undefined>;
  /** In review order: cluster pilots first, then application time, then id (37号 §一). */
  list(filter?: ApplicationFilter): Promise<RedemptionApplication[]>;
  /**
   * submitted → approved | rejected, with the recommendation recomputed at the decision. The
   * UPDATE names the expected state, and the database's unique index refuses a second payout:
   * of two concurrent approvals, one commits and the other changes nothing.
   */
  decide(id: number, outcome: { decision: 'approved' | 'rejected'; reason: string | null; recommendation: Recommendation }, actor: Actor): Promise<RedemptionApplication | undefined>;
  /** submitted → withdrawn. Undefined when it was not submitted any more. */
  withdraw(id: number, actor: Actor): Promise<RedemptionApplication | undefined>;
  acknowledge(id: number, signal: string, note: string, actor: Actor): Promise<SignalAcknowledgement>;
}

interface Row {
  id: number;
  contract_id: string;
  supplier_id: string;
  program: number;
  cluster_pilot: number;
  state: ApplicationState;
  submitted_at: number;
  submitted_by: string;
  evidence: string;
  recommendation: string;
  voucher_fen: number;
  payable_fen: number;
  report_digest: string;
  decided_at: number | null;
  decided_by: string | null;
  decision_reason: string | null;
  decision: 'approved' | 'rejected' | null;
  settled_at: number | null;
  settlement_batch_id: number | null;
  withdrawn_at: number | null;
}

/** Review and settlement order (37号 §一 集群试点优先…结算, then 兑现申请时间, then id). */
export const APPLICATION_ORDER = 'cluster_pilot DESC, submitted_at, id';

export function createApplications(ctx: RegistryContext): Applications {
  const { sql: db, clock, audit, signer, signedRecords } = ctx;

  const rowById = async (id: number) => (await db.one<Row>(sql`SELECT * FROM redemption_applications WHERE id = ${id}`))!;
  const fromRow = async (r: Row): Promise<RedemptionApplication> => {
    const acks = await db.all<{ signal: string; note: string; actor: string; at: number }>(
      sql`SELECT signal, note, actor, at FROM signal_acknowledgements WHERE application_id = ${r.id} ORDER BY signal`,
    );
    const signed = r.decided_at === null ? undefined : await signedRecords.latest(DECISION_RECORD, String(r.id));
    return {
      id: r.id,
      contractId: r.contract_id,
      supplierId: r.supplier_id,
      program: r.program,
      clusterPilot: r.cluster_pilot === 1,
      state: r.state,
      submittedAt: toShanghaiIso(r.submitted_at),
      submittedBy: r.submitted_by,
      evidence: JSON.parse(r.evidence) as Record<string, unknown>,
      recommendation: JSON.parse(r.recommendation) as Recommendation,
      voucherFen: r.voucher_fen,
      payableFen: r.payable_fen,
      reportDigest: r.report_digest,
      decision:
        r.decided_at === null || r.decision === null
          ? null
          : { by: r.decided_by!, at: toShanghaiIso(r.decided_at), reason: r.decision_reason, decision: r.decision },
      settlement: r.settlement_batch_id === null ? null : { batchId: r.settlement_batch_id, at: toShanghaiIso(r.settled_at!) },
      withdrawnAt: r.withdrawn_at === null ? null : toShanghaiIso(r.withdrawn_at),
      acknowledgements: acks.map((a) => ({ signal: a.signal, note: a.note, by: a.actor, at: toShanghaiIso(a.at) })),
      ...(signed === undefined ? {} : { signedDecision: signed }),
    };
  };
  const one = async (row: Row | undefined) => (row ? await fromRow(row) : undefined);
  const many = async (rows: readonly Row[]) => {
    const result: RedemptionApplication[] = [];
    for (const row of rows) result.push(await fromRow(row));
    return result;
  };

  return {
    insert: (input, actor) =>
      db.transaction(async () => {
        const row = await db.one<{ id: number }>(sql`INSERT INTO redemption_applications
          (contract_id, supplier_id, program, cluster_pilot, state, submitted_at, submitted_by, idempotency_key, evidence,
           recommendation, voucher_fen, payable_fen, report_digest)
          VALUES (${input.contractId}, ${input.supplierId}, ${input.program}, ${input.clusterPilot ? 1 : 0}, 'submitted', ${input.submittedAt},
           ${actor}, ${input.idempotencyKey}, ${JSON.stringify(input.evidence)}, ${JSON.stringify(input.recommendation)},
           ${input.recommendation.voucherFen}, ${input.recommendation.payableFen}, ${input.recommendation.reportDigest})
          RETURNING id`);
        const id = row!.id;
        await audit.append(actor, 'redemption.submit', input.contractId, {
          applicationId: id,
          payableFen: input.recommendation.payableFen,
          recommendation: input.recommendation.decision,
          reportDigest: input.recommendation.reportDigest,
        });
        return fromRow(await rowById(id));
      }),
    get: async (id) => one(await db.one<Row>(sql`SELECT * FROM redemption_applications WHERE id = ${id}`)),
    byIdempotencyKey: async (actor, key) =>
      one(await db.one<Row>(sql`SELECT * FROM redemption_applications WHERE submitted_by = ${actor} AND idempotency_key = ${key}`)),
    openOf: async (contractId) =>
      one(await db.one<Row>(sql`SELECT * FROM redemption_applications WHERE contract_id = ${contractId} AND state IN ('submitted', 'approved')`)),
    payoutOf: async (contractId) =>
      one(await db.one<Row>(sql`SELECT * FROM redemption_applications WHERE contract_id = ${contractId} AND state IN ('approved', 'settled')`)),
    async list(filter = {}) {
      let query = db.q().selectFrom('redemption_applications').selectAll();
      if (filter.state !== undefined) query = query.where('state', '=', filter.state);
      if (filter.supplierId !== undefined) query = query.where('supplier_id', '=', filter.supplierId);
      if (filter.contractId !== undefined) query = query.where('contract_id', '=', filter.contractId);
      return many((await query.orderBy(sql.raw(APPLICATION_ORDER)).execute()) as Row[]);
    },
    decide: (id, outcome, actor) =>
      db.transaction(async () => {
        // Names the expected state: the transition trigger and the one-payout index guard the rest.
        const changes = await db.run(sql`UPDATE redemption_applications SET state = ${outcome.decision}, decision = ${outcome.decision},
          decided_at = ${clock.now()}, decided_by = ${actor}, decision_reason = ${outcome.reason},
          recommendation = ${JSON.stringify(outcome.recommendation)},
          payable_fen = ${outcome.decision === 'approved' ? outcome.recommendation.payableFen : 0},
          report_digest = ${outcome.recommendation.reportDigest}
          WHERE id = ${id} AND state = 'submitted'`);
        if (changes === 0) return undefined;
        const decided = await fromRow(await rowById(id));
        // 'redemption.decide' as before the lifecycle existed: auditors' queries keep working.
        await audit.append(actor, 'redemption.decide', decided.contractId, {
          applicationId: id,
          decision: outcome.decision,
          reason: outcome.reason,
          payableFen: decided.payableFen,
          requiredDevices: outcome.recommendation.requiredDevices,
          activeDevices: outcome.recommendation.activeDevices,
          acknowledgedSignals: decided.acknowledgements.map((a) => a.signal),
          reportDigest: outcome.recommendation.reportDigest,
        });
        if (signer === undefined) return decided;
        // The decision signed with the tree head that includes its own audit entry (issue 18).
        const signed = signer.signJson(decided, JWS_TYPES.decision, { treeHead: await audit.head() });
        await signedRecords.add(DECISION_RECORD, String(id), signed);
        return { ...decided, signedDecision: signed };
      }),
    withdraw: (id, actor) =>
      db.transaction(async () => {
        const changes = await db.run(
          sql`UPDATE redemption_applications SET state = 'withdrawn', withdrawn_at = ${clock.now()} WHERE id = ${id} AND state = 'submitted'`,
        );
        if (changes === 0) return undefined;
        const withdrawn = await fromRow(await rowById(id));
        await audit.append(actor, 'redemption.withdraw', withdrawn.contractId, { applicationId: id });
        return withdrawn;
      }),
    acknowledge: (id, signal, note, actor) =>
      db.transaction(async () => {
        const at = clock.now();
        await db.run(sql`INSERT INTO signal_acknowledgements (application_id, signal, note, actor, at) VALUES (${id}, ${signal}, ${note}, ${actor}, ${at})
          ON CONFLICT (application_id, signal) DO UPDATE SET note = excluded.note, actor = excluded.actor, at = excluded.at`);
        const application = await fromRow(await rowById(id));
        await audit.append(actor, 'review.signal.acknowledge', application.contractId, { applicationId: id, signal, note });
        return { signal, note, by: actor, at: toShanghaiIso(at) };
      }),
  };
}
