/**
 * The money path over HTTP (SPEC rules 11–14): redemption applications, reviewer decisions on
 * the evidence, settlement. Thin adapters: each handler validates (zod), calls one use-case of
 * src/services/redemption and shapes the answer.
 */
import { z } from 'zod';
import { badRequest, notFound } from '../../errors.js';
import { APPLICATION_STATES, canSeeContract, supplierScope } from '../../registry/index.js';
import type { RedemptionEvidence } from '../../rules/index.js';
import {
  acknowledgeSignal,
  adjustSupplierQuota,
  drawSpotCheck,
  recordSpotCheckOutcome,
  assignSerial,
  decideApplication,
  excludeDevice,
  includeDevice,
  redeemContract,
  settleBatch,
  submitApplication,
  withdrawApplication,
  type RedemptionDeps,
} from '../../services/index.js';
import { routesWith, type Principal } from '../route.js';
import * as rs from '../schemas/redemption.js';
import { contractIdParams } from './verification.js';

const route = routesWith<RedemptionDeps>();
const STAFF = ['admin', 'reviewer'] as const;
const ANY_KEY = ['admin', 'reviewer', 'supplier'] as const;
const TAGS = ['redemption'];
const NOT_FOUND = { description: 'not found, or not visible to this key' };
const CONFLICT = { description: 'refused by the lifecycle: problem+json with the reason code and clause (and the existing application)' };

const idParams = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const list = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.null() });

const principalOf = (p: Principal | null): Principal => p!;

/** `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): 1–200 visible ASCII characters. */
function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(header)) {
    throw badRequest('GW_ERR_REDEMPTION_BAD_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1–200 visible ASCII characters', [{ path: 'header.idempotency-key', message: 'invalid' }]);
  }
  return header;
}

async function visibleApplication(deps: RedemptionDeps, principal: Principal, id: number) {
  const application = await deps.registry.applications.get(id);
  if (!application || !canSeeContract(principal, application)) throw notFound('redemption application', id);
  return application;
}

export const redemptionRoutes = [
  route({
    method: 'post',
    path: '/v1/contracts/{id}/redemption-applications',
    summary: "Submit a redemption application (兑现申请) with its evidence, dated by the gateway's clock; only admitted vouchers, one open application and one payout per contract",
    tags: TAGS,
    auth: ANY_KEY,
    params: contractIdParams,
    body: rs.applicationEvidenceSchema,
    responses: {
      201: { description: 'submitted, with the recommendation of the rules engine and the verifier', schema: rs.applicationSchema },
      200: { description: 'the application an earlier request with the same Idempotency-Key created', schema: rs.applicationSchema },
      404: NOT_FOUND,
      409: CONFLICT,
    },
    async handler({ params, body, principal, deps, req }) {
      const result = await submitApplication(deps, principalOf(principal), {
        contractId: params.id,
        evidence: body as RedemptionEvidence,
        idempotencyKey: idempotencyKey(req.get('idempotency-key')),
      });
      return { status: result.replayed ? 200 : 201, body: result.application };
    },
  }),
  route({
    method: 'get',
    path: '/v1/redemption-applications',
    summary: 'Redemption applications in review order (cluster pilots first, then application time, then id); a supplier key sees its own',
    tags: TAGS,
    auth: ANY_KEY,
    query: z.object({ state: z.enum(APPLICATION_STATES).optional(), contractId: z.string().max(64).optional(), supplierId: z.string().max(64).optional() }),
    responses: { 200: { description: 'all matching applications', schema: list(rs.applicationSchema) } },
    async handler({ query, principal, deps }) {
      const scope = supplierScope(principalOf(principal));
      if (scope !== undefined && query.supplierId !== undefined && query.supplierId !== scope) return { status: 200, body: { items: [], nextCursor: null } };
      const items = await deps.registry.applications.list({
        ...(query.state ? { state: query.state } : {}),
        ...(query.contractId ? { contractId: query.contractId } : {}),
        ...((scope ?? query.supplierId) !== undefined ? { supplierId: (scope ?? query.supplierId)! } : {}),
      });
      return { status: 200, body: { items, nextCursor: null } };
    },
  }),
  route({
    method: 'get',
    path: '/v1/redemption-applications/{id}',
    summary: 'One redemption application with its recommendation, decision, acknowledgements and settlement',
    tags: TAGS,
    auth: ANY_KEY,
    params: idParams,
    responses: { 200: { description: 'application', schema: rs.applicationSchema }, 404: NOT_FOUND },
    handler: async ({ params, principal, deps }) => ({ status: 200, body: await visibleApplication(deps, principalOf(principal), params.id) }),
  }),
  route({
    method: 'post',
    path: '/v1/redemption-applications/{id}/decision',
    summary: 'Approve or reject a submitted application (reason required to reject); approval needs an admitted voucher, passing rules and devices, and every fraud signal kind acknowledged',
    tags: TAGS,
    auth: STAFF,
    params: idParams,
    body: rs.decisionRequestSchema,
    responses: { 200: { description: 'decided', schema: rs.applicationSchema }, 404: NOT_FOUND, 409: CONFLICT },
    async handler({ params, body, principal, deps }) {
      return { status: 200, body: await decideApplication(deps, principalOf(principal), { applicationId: params.id, decision: body.decision, reason: body.reason }) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/redemption-applications/{id}/withdrawal',
    summary: 'Withdraw a submitted application before a decision',
    tags: TAGS,
    auth: ['admin', 'supplier'],
    params: idParams,
    responses: { 200: { description: 'withdrawn', schema: rs.applicationSchema }, 404: NOT_FOUND, 409: CONFLICT },
    handler: async ({ params, principal, deps }) => ({ status: 200, body: await withdrawApplication(deps, principalOf(principal), params.id) }),
  }),
  route({
    method: 'post',
    path: '/v1/redemption-applications/{id}/acknowledgements',
    summary: 'Acknowledge one fraud signal kind (LOCKSTEP, SEQ_REPLAY, CLOCK_SKEW, SESSION_TAKEOVER) on the counted devices, with a note',
    tags: TAGS,
    auth: STAFF,
    params: idParams,
    body: rs.acknowledgementRequestSchema,
    responses: {
      201: { description: 'acknowledged', schema: z.object({ signal: z.string(), note: z.string(), by: z.string(), at: z.string() }) },
      404: NOT_FOUND,
      409: CONFLICT,
    },
    handler: async ({ params, body, principal, deps }) => ({ status: 201, body: await acknowledgeSignal(deps, principalOf(principal), { applicationId: params.id, ...body }) }),
  }),
  route({
    method: 'post',
    path: '/v1/contracts/{id}/redemption',
    summary: 'Redemption (兑现) for existing clients: a reviewer submits and decides at once; a repeat is 409 with the existing application (the same record for the same Idempotency-Key); `at` only evaluates a what-if',
    tags: ['verification', ...TAGS],
    auth: STAFF,
    params: contractIdParams,
    body: rs.legacyRedemptionRequestSchema,
    responses: {
      200: { description: 'decision (or the what-if evaluation)', schema: rs.legacyRedemptionSchema },
      404: NOT_FOUND,
      409: CONFLICT,
    },
    async handler({ params, body, principal, deps, req }) {
      const { at, ...evidence } = body;
      const result = await redeemContract(deps, principalOf(principal), {
        contractId: params.id,
        evidence,
        whatIfAt: at === undefined ? undefined : Date.parse(at),
        idempotencyKey: idempotencyKey(req.get('idempotency-key')),
      });
      const contract = (await deps.registry.contracts.get(params.id))!;
      const base = { program: contract.program, catalogId: contract.catalogId, contractId: contract.id };
      if (result.kind === 'what-if') {
        const { signalKinds: _s, admitted: _a, at: _at, ...r } = result.recommendation;
        return { status: 200, body: { ...base, ...r, whatIf: true, redemptionId: null, application: null } };
      }
      const { application } = result;
      const r = application.recommendation;
      return {
        status: 200,
        body: {
          ...base,
          decision: application.state === 'submitted' ? 'submitted' : r.decision,
          voucherFen: r.voucherFen,
          payableFen: application.state === 'approved' || application.state === 'settled' ? application.payableFen : 0,
          requiredDevices: r.requiredDevices,
          activeDevices: r.activeDevices,
          reasons: r.reasons,
          checks: r.checks,
          explanation: result.explanation,
          reportDigest: application.reportDigest,
          whatIf: false,
          redemptionId: application.id,
          application,
        },
      };
    },
  }),
  // ── reviewer decisions on the evidence (SPEC rule 14) ──────────────────────────────────
  route({
    method: 'post',
    path: '/v1/devices/{id}/exclusion',
    summary: "Leave a device out of its contract's count (reason required); audited and shown in every later verification report",
    tags: TAGS,
    auth: STAFF,
    params: contractIdParams,
    body: rs.reasonRequestSchema,
    responses: { 201: { description: 'excluded', schema: z.object({ deviceId: z.string(), contractId: z.string(), by: z.string(), at: z.string(), reason: z.string() }) }, 404: NOT_FOUND },
    handler: async ({ params, body, principal, deps }) => ({ status: 201, body: await excludeDevice(deps, principalOf(principal), { deviceId: params.id, reason: body.reason }) }),
  }),
  route({
    method: 'post',
    path: '/v1/devices/{id}/inclusion',
    summary: 'Count an excluded device again (reason required); audited',
    tags: TAGS,
    auth: STAFF,
    params: contractIdParams,
    body: rs.reasonRequestSchema,
    responses: { 204: { description: 'counted again' }, 404: NOT_FOUND },
    async handler({ params, body, principal, deps }) {
      await includeDevice(deps, principalOf(principal), { deviceId: params.id, reason: body.reason });
      return { status: 204 };
    },
  }),
  route({
    method: 'get',
    path: '/v1/duplicate-serials',
    summary: 'Serials registered under more than one contract, with every registration and the assignment (reviewers only: it names contracts of several suppliers)',
    tags: TAGS,
    auth: STAFF,
    query: z.object({ contractId: z.string().max(64).optional() }),
    responses: { 200: { description: 'duplicated serials', schema: list(rs.duplicateSerialSchema) } },
    handler: async ({ query, deps }) => ({ status: 200, body: { items: await deps.registry.reviews.duplicates(query.contractId), nextCursor: null } }),
  }),
  route({
    method: 'put',
    path: '/v1/duplicate-serials/{serial}/assignment',
    summary: 'Resolve a DUPLICATE_SERIAL: the serial counts for this contract only (until then the earliest registration does)',
    tags: TAGS,
    auth: STAFF,
    params: z.object({ serial: z.string().min(1).max(128) }),
    body: rs.serialAssignmentRequestSchema,
    responses: { 200: { description: 'assigned', schema: rs.duplicateSerialSchema }, 404: NOT_FOUND },
    handler: async ({ params, body, principal, deps }) => ({ status: 200, body: await assignSerial(deps, principalOf(principal), { serial: params.serial, ...body }) }),
  }),
  // ── settlement (SPEC rule 13) ──────────────────────────────────────────────────────────
  route({
    method: 'get',
    path: '/v1/settlements/queue',
    summary: 'Approved, unsettled applications in settlement order: cluster pilots first, then application time, then id (37号 §一)',
    tags: TAGS,
    auth: STAFF,
    responses: { 200: { description: 'queue', schema: z.object({ items: z.array(rs.settlementLineSchema), totalFen: z.number().int() }) } },
    async handler({ deps }) {
      const items = await deps.registry.settlements.queue();
      return { status: 200, body: { items, totalFen: items.reduce((sum, l) => sum + l.payableFen, 0) } };
    },
  }),
  route({
    method: 'post',
    path: '/v1/settlements',
    summary: 'Settle the queue in order up to an optional budget in fen: one batch, its CSV for the finance office, audit entries',
    tags: TAGS,
    auth: ['admin'],
    body: z.object({ budgetFen: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional() }).meta({ id: 'SettlementRequest' }),
    responses: { 201: { description: 'batch', schema: rs.settlementBatchSchema }, 409: CONFLICT },
    handler: async ({ body, principal, deps }) => ({ status: 201, body: await settleBatch(deps, principalOf(principal), body) }),
  }),
  route({
    method: 'get',
    path: '/v1/settlements',
    summary: 'Settlement batches, oldest first',
    tags: TAGS,
    auth: STAFF,
    responses: { 200: { description: 'batches', schema: list(rs.settlementBatchSchema) } },
    handler: async ({ deps }) => ({ status: 200, body: { items: await deps.registry.settlements.list(), nextCursor: null } }),
  }),
  route({
    method: 'get',
    path: '/v1/settlements/{id}',
    summary: 'One settlement batch',
    tags: TAGS,
    auth: STAFF,
    params: idParams,
    responses: { 200: { description: 'batch', schema: rs.settlementBatchSchema }, 404: NOT_FOUND },
    async handler({ params, deps }) {
      const batch = await deps.registry.settlements.get(params.id);
      if (!batch) throw notFound('settlement batch', params.id);
      return { status: 200, body: batch };
    },
  }),
  route({
    method: 'get',
    path: '/v1/settlements/{id}/csv',
    summary: "A batch's CSV for the finance office (as written when the batch was settled)",
    tags: TAGS,
    auth: STAFF,
    params: idParams,
    responses: { 200: { description: 'CSV', contentType: 'text/csv' }, 404: NOT_FOUND },
    async handler({ params, deps, res }) {
      const csv = await deps.registry.settlements.csv(params.id);
      if (csv === undefined) throw notFound('settlement batch', params.id);
      res.status(200).type('text/csv; charset=utf-8').attachment(`settlement-${params.id}.csv`).send(csv);
      return undefined;
    },
  }),
  // ── spot checks (抽查, SPEC rule 14) ─────────────────────────────────────────────────────
  route({
    method: 'post',
    path: '/v1/spot-checks',
    summary: 'Draw a reproducible spot check (抽查) of approved or settled applications: a count or a percentage; the seed is recorded',
    tags: TAGS,
    auth: STAFF,
    body: rs.spotCheckRequestSchema,
    responses: { 201: { description: 'the draw', schema: rs.spotCheckSchema } },
    handler: async ({ body, principal, deps }) => ({ status: 201, body: await drawSpotCheck(deps, principalOf(principal), body) }),
  }),
  route({
    method: 'get',
    path: '/v1/spot-checks',
    summary: 'Spot checks, oldest first, with their outcomes',
    tags: TAGS,
    auth: STAFF,
    responses: { 200: { description: 'spot checks', schema: list(rs.spotCheckSchema) } },
    handler: async ({ deps }) => ({ status: 200, body: { items: await deps.registry.spotChecks.list(), nextCursor: null } }),
  }),
  route({
    method: 'get',
    path: '/v1/spot-checks/{id}',
    summary: 'One spot check',
    tags: TAGS,
    auth: STAFF,
    params: idParams,
    responses: { 200: { description: 'spot check', schema: rs.spotCheckSchema }, 404: NOT_FOUND },
    async handler({ params, deps }) {
      const check = await deps.registry.spotChecks.get(params.id);
      if (!check) throw notFound('spot check', params.id);
      return { status: 200, body: check };
    },
  }),
  route({
    method: 'put',
    path: '/v1/spot-checks/{id}/outcomes/{applicationId}',
    summary: "Record a sampled application's outcome, once; a failed check on a settled application marks it for recovery (追回)",
    tags: TAGS,
    auth: STAFF,
    params: z.object({ id: idParams.shape.id, applicationId: idParams.shape.id }),
    body: rs.spotCheckOutcomeRequestSchema,
    responses: { 200: { description: 'the spot check', schema: rs.spotCheckSchema }, 404: NOT_FOUND, 409: CONFLICT },
    handler: async ({ params, body, principal, deps }) => ({
      status: 200,
      body: await recordSpotCheckOutcome(deps, principalOf(principal), { spotCheckId: params.id, applicationId: params.applicationId, outcome: body.outcome, note: body.note }),
    }),
  }),
  route({
    method: 'get',
    path: '/v1/recoveries',
    summary: 'Settled applications marked for recovery (追回) after a failed spot check',
    tags: TAGS,
    auth: STAFF,
    query: z.object({ supplierId: z.string().max(64).optional() }),
    responses: { 200: { description: 'recoveries', schema: list(rs.recoverySchema) } },
    handler: async ({ query, deps }) => ({ status: 200, body: { items: await deps.registry.spotChecks.recoveries(query.supplierId), nextCursor: null } }),
  }),
  route({
    method: 'post',
    path: '/v1/suppliers/{id}/quota-adjustments',
    summary: "Adjust a supplier's quota citing recorded spot-check outcomes (37号 §三(二)); allocation is re-run",
    tags: TAGS,
    auth: ['admin'],
    params: contractIdParams,
    body: rs.quotaAdjustmentRequestSchema,
    responses: { 201: { description: 'adjustment', schema: rs.quotaAdjustmentSchema }, 404: NOT_FOUND },
    handler: async ({ params, body, principal, deps }) => ({ status: 201, body: await adjustSupplierQuota(deps, principalOf(principal), { supplierId: params.id, ...body }) }),
  }),
  route({
    method: 'get',
    path: '/v1/suppliers/{id}/quota-adjustments',
    summary: "A supplier's quota adjustments with the spot-check outcomes they cite",
    tags: TAGS,
    auth: STAFF,
    params: contractIdParams,
    responses: { 200: { description: 'adjustments', schema: list(rs.quotaAdjustmentSchema) } },
    handler: async ({ params, deps }) => ({ status: 200, body: { items: await deps.registry.spotChecks.quotaAdjustments(params.id), nextCursor: null } }),
  }),
];
