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
  insert(input: NewApplication, actor: Actor): RedemptionApplication;
  get(id: number): RedemptionApplication | undefined;
  byIdempotencyKey(actor: Actor, key: string): RedemptionApplication | undefined;
  /** The contract's open (submitted/approved) application, if any. */
  openOf(contractId: string): RedemptionApplication | undefined;
  /** The contract's approved or settled application, if any: its one payout. */
  payoutOf(contractId: string): RedemptionApplication | undefined;
  /** In review order: cluster pilots first, then application time, then id (37号 §一). */
  list(filter?: ApplicationFilter): RedemptionApplication[];
  /**
   * submitted → approved | rejected, with the recommendation recomputed at the decision. The
   * UPDATE names the expected state, and the database's unique index refuses a second payout:
   * of two concurrent approvals, one commits and the other changes nothing.
   */
  decide(id: number, outcome: { decision: 'approved' | 'rejected'; reason: string | null; recommendation: Recommendation }, actor: Actor): RedemptionApplication | undefined;
  /** submitted → withdrawn. Undefined when it was not submitted any more. */
  withdraw(id: number, actor: Actor): RedemptionApplication | undefined;
  acknowledge(id: number, signal: string, note: string, actor: Actor): SignalAcknowledgement;
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
  const { db, clock, audit, signer, signedRecords } = ctx;
  const insert = db.prepare(`INSERT INTO redemption_applications
    (contract_id, supplier_id, program, cluster_pilot, state, submitted_at, submitted_by, idempotency_key, evidence,
     recommendation, voucher_fen, payable_fen, report_digest)
    VALUES (@contractId, @supplierId, @program, @clusterPilot, 'submitted', @submittedAt, @actor, @idempotencyKey, @evidence,
     @recommendation, @voucherFen, @payableFen, @reportDigest)`);
  const byId = db.prepare('SELECT * FROM redemption_applications WHERE id = ?');
  const byKey = db.prepare('SELECT * FROM redemption_applications WHERE submitted_by = ? AND idempotency_key = ?');
  const open = db.prepare(`SELECT * FROM redemption_applications WHERE contract_id = ? AND state IN ('submitted', 'approved')`);
  const payout = db.prepare(`SELECT * FROM redemption_applications WHERE contract_id = ? AND state IN ('approved', 'settled')`);
  const list = db.prepare(`SELECT * FROM redemption_applications
    WHERE (@state IS NULL OR state = @state) AND (@supplierId IS NULL OR supplier_id = @supplierId)
      AND (@contractId IS NULL OR contract_id = @contractId)
    ORDER BY ${APPLICATION_ORDER}`);
  const decide = db.prepare(`UPDATE redemption_applications SET state = @state, decision = @state, decided_at = @now, decided_by = @actor,
    decision_reason = @reason, recommendation = @recommendation, payable_fen = @payableFen, report_digest = @reportDigest
    WHERE id = @id AND state = 'submitted'`);
  const withdraw = db.prepare(`UPDATE redemption_applications SET state = 'withdrawn', withdrawn_at = ? WHERE id = ? AND state = 'submitted'`);
  const acks = db.prepare('SELECT signal, note, actor, at FROM signal_acknowledgements WHERE application_id = ? ORDER BY signal');
  const upsertAck = db.prepare(`INSERT INTO signal_acknowledgements (application_id, signal, note, actor, at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (application_id, signal) DO UPDATE SET note = excluded.note, actor = excluded.actor, at = excluded.at`);

  const fromRow = (r: Row): RedemptionApplication => ({
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
    acknowledgements: (acks.all(r.id) as Array<{ signal: string; note: string; actor: string; at: number }>).map((a) => ({
      signal: a.signal,
      note: a.note,
      by: a.actor,
      at: toShanghaiIso(a.at),
    })),
    ...signedDecisionOf(r.id, r.decided_at),
  });
  const signedDecisionOf = (id: number, decidedAt: number | null): { signedDecision?: string } => {
    const signed = decidedAt === null ? undefined : signedRecords.latest(DECISION_RECORD, String(id));
    return signed === undefined ? {} : { signedDecision: signed };
  };
  const one = (row: unknown) => (row ? fromRow(row as Row) : undefined);

  return {
    insert: (input, actor) =>
      db.transaction(() => {
        const { lastInsertRowid } = insert.run({
          contractId: input.contractId,
          supplierId: input.supplierId,
          program: input.program,
          clusterPilot: input.clusterPilot ? 1 : 0,
          submittedAt: input.submittedAt,
          actor,
          idempotencyKey: input.idempotencyKey,
          evidence: JSON.stringify(input.evidence),
          recommendation: JSON.stringify(input.recommendation),
          voucherFen: input.recommendation.voucherFen,
          payableFen: input.recommendation.payableFen,
          reportDigest: input.recommendation.reportDigest,
        });
        const id = Number(lastInsertRowid);
        audit.append(actor, 'redemption.submit', input.contractId, {
          applicationId: id,
          payableFen: input.recommendation.payableFen,
          recommendation: input.recommendation.decision,
          reportDigest: input.recommendation.reportDigest,
        });
        return fromRow(byId.get(id) as Row);
      })(),
    get: (id) => one(byId.get(id)),
    byIdempotencyKey: (actor, key) => one(byKey.get(actor, key)),
    openOf: (contractId) => one(open.get(contractId)),
    payoutOf: (contractId) => one(payout.get(contractId)),
    list: (filter = {}) =>
      (list.all({ state: filter.state ?? null, supplierId: filter.supplierId ?? null, contractId: filter.contractId ?? null }) as Row[]).map(fromRow),
    decide: (id, outcome, actor) =>
      db.transaction(() => {
        const { changes } = decide.run({
          id,
          state: outcome.decision,
          now: clock.now(),
          actor,
          reason: outcome.reason,
          recommendation: JSON.stringify(outcome.recommendation),
          payableFen: outcome.decision === 'approved' ? outcome.recommendation.payableFen : 0,
          reportDigest: outcome.recommendation.reportDigest,
        });
        if (changes === 0) return undefined;
        const decided = fromRow(byId.get(id) as Row);
        // 'redemption.decide' as before the lifecycle existed: auditors' queries keep working.
        audit.append(actor, 'redemption.decide', decided.contractId, {
          applicationId: id,
          decision: outcome.decision,
          reason: outcome.reason,
          payableFen: decided.payableFen,
          requiredDevices: outcome.recommendation.requiredDevices,
          activeDevices: outcome.recommendation.activeDevices,
          acknowledgedSignals: decided.acknowledgements.map((a) => a.signal),
          reportDigest: outcome.recommendation.reportDigest,
        });
        // The decision signed with the tree head that includes its own audit entry (issue 18).
        const signed = signer?.signJson(decided, JWS_TYPES.decision, { treeHead: audit.head() });
        if (signed === undefined) return decided;
        signedRecords.add(DECISION_RECORD, String(id), signed);
        return { ...decided, signedDecision: signed };
      })(),
    withdraw: (id, actor) =>
      db.transaction(() => {
        if (withdraw.run(clock.now(), id).changes === 0) return undefined;
        const withdrawn = fromRow(byId.get(id) as Row);
        audit.append(actor, 'redemption.withdraw', withdrawn.contractId, { applicationId: id });
        return withdrawn;
      })(),
    acknowledge: (id, signal, note, actor) =>
      db.transaction(() => {
        const at = clock.now();
        upsertAck.run(id, signal, note, actor, at);
        const application = fromRow(byId.get(id) as Row);
        audit.append(actor, 'review.signal.acknowledge', application.contractId, { applicationId: id, signal, note });
        return { signal, note, by: actor, at: toShanghaiIso(at) };
      })(),
  };
}
