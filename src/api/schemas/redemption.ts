import { z } from 'zod';
import { boundedInstant } from '../../time/instant.js';
import { APPLICATION_STATES, SPOT_CHECK_OUTCOMES } from '../../registry/index.js';
import { redemptionCheckSchema, redemptionEvidenceSchema, reasonSchema } from '../../rules/index.js';
import { SIGNALS_NEEDING_ACKNOWLEDGEMENT } from '../../verifier/index.js';

const fen = z.number().int().nonnegative().describe('integer fen (0.01 yuan)');
/**
 * Free text a reviewer or supplier writes (reasons, notes, seeds): trimmed, and without control
 * characters other than tab and line breaks — a NUL would end the text early in SQLite's CHECKs.
 */
const freeText = (max: number, min = 1) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((t) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(t), 'control characters are not allowed');
const dayOrInstant = z.union([boundedInstant(), z.iso.date()]).describe('a date (Asia/Shanghai day) or an ISO-8601 instant with offset');

/** Evidence of a redemption application (SPEC rules 10, 12): documents, amounts and their dates. */
export const applicationEvidenceSchema = z
  .object({
    invoiceNumber: z.string().trim().min(1).max(64).describe('发票号码'),
    invoiceAmountFen: fen,
    invoiceDate: dayOrInstant,
    paymentProofAmountFen: fen.describe('amount on the payment proof (付款凭证)'),
    paymentDate: dayOrInstant.describe('date on the payment proof'),
    paidAmountFen: fen.describe('amount the enterprise actually paid'),
    actualContractAmountFen: fen.optional().describe('contract amount actually signed, if below the amount at application (37号 §四)'),
    acceptanceReport: z.boolean().describe('验收报告 attached'),
    acceptanceReportDate: dayOrInstant.optional(),
    contractSignedAt: dayOrInstant.optional().describe('contract signing date; required unless registered with the contract'),
  })
  .strict()
  .meta({ id: 'RedemptionApplicationEvidence' });

const reviewNote = z.object({ by: z.string(), at: z.string(), reason: z.string() });

export const recommendationSchema = z
  .object({
    decision: z.enum(['approved', 'rejected']),
    at: z.string().describe('the application time the rules and devices were evaluated at'),
    admitted: z.boolean(),
    voucherFen: fen,
    payableFen: fen,
    requiredDevices: z.number().int().nullable(),
    activeDevices: z.number().int().nullable(),
    reasons: z.array(reasonSchema.extend({ code: z.string(), effect: z.string().optional() })),
    checks: z.array(redemptionCheckSchema),
    signalKinds: z.array(z.string()).describe('fraud signal kinds on counted devices; each must be acknowledged before approval'),
    reportDigest: z.string(),
  })
  .meta({ id: 'RedemptionRecommendation' });

export const applicationSchema = z
  .object({
    id: z.number().int(),
    contractId: z.string(),
    supplierId: z.string(),
    program: z.number().int(),
    clusterPilot: z.boolean(),
    state: z.enum(APPLICATION_STATES),
    submittedAt: z.string().describe("the gateway's clock at submission"),
    submittedBy: z.string(),
    evidence: z.record(z.string(), z.unknown()),
    recommendation: recommendationSchema,
    voucherFen: fen,
    payableFen: fen,
    reportDigest: z.string(),
    decision: z.object({ by: z.string(), at: z.string(), reason: z.string().nullable(), decision: z.enum(['approved', 'rejected']) }).nullable(),
    settlement: z.object({ batchId: z.number().int(), at: z.string() }).nullable(),
    withdrawnAt: z.string().nullable(),
    acknowledgements: z.array(z.object({ signal: z.string(), note: z.string(), by: z.string(), at: z.string() })),
    signedDecision: z.string().optional().describe('the decision as a compact JWS (EdDSA; keys at /.well-known/jwks.json)'),
  })
  .meta({ id: 'RedemptionApplication' });

/** The legacy redemption response (API.md), extended with the application it created. */
export const legacyRedemptionSchema = z
  .object({
    program: z.number().int(),
    catalogId: z.number().int(),
    decision: z.enum(['approved', 'rejected', 'submitted']).describe('submitted: awaiting a reviewer (a fraud signal needs acknowledging)'),
    voucherFen: fen,
    payableFen: fen,
    requiredDevices: z.number().int().nullable(),
    activeDevices: z.number().int().nullable(),
    reasons: z.array(z.object({ code: z.string(), clause: z.string(), message: z.string(), effect: z.string().optional() })),
    checks: z.array(redemptionCheckSchema),
    explanation: z.unknown(),
    contractId: z.string(),
    reportDigest: z.string(),
    whatIf: z.boolean().describe('true when `at` was given: evaluated at that time, nothing recorded'),
    redemptionId: z.number().int().nullable().describe('the application id (null for a what-if)'),
    application: applicationSchema.nullable(),
  })
  .meta({ id: 'RedemptionDecision' });

export const legacyRedemptionRequestSchema = redemptionEvidenceSchema
  .extend({ at: boundedInstant().optional().describe('what-if only: evaluate at this time and record nothing; the application time is the gateway clock') })
  .meta({ id: 'RedemptionRequest' });

export const decisionRequestSchema = z
  .object({ decision: z.enum(['approved', 'rejected']), reason: freeText(2000, 0).optional().describe('required to reject') })
  .meta({ id: 'RedemptionDecisionRequest' });

export const acknowledgementRequestSchema = z
  .object({ signal: z.enum(SIGNALS_NEEDING_ACKNOWLEDGEMENT as [string, ...string[]]), note: freeText(2000) })
  .meta({ id: 'SignalAcknowledgementRequest' });

export const reasonRequestSchema = z.object({ reason: freeText(2000) }).meta({ id: 'ReviewReason' });

export const serialAssignmentRequestSchema = z
  .object({ contractId: z.string().min(1).max(64), reason: freeText(2000) })
  .meta({ id: 'SerialAssignmentRequest' });

export const duplicateSerialSchema = z
  .object({
    serial: z.string(),
    registrations: z.array(z.object({ deviceId: z.string(), contractId: z.string(), supplierId: z.string(), registeredAt: z.string() })),
    assignment: reviewNote.extend({ contractId: z.string() }).nullable(),
  })
  .meta({ id: 'DuplicateSerial' });

export const settlementLineSchema = z
  .object({
    position: z.number().int(),
    applicationId: z.number().int(),
    contractId: z.string(),
    enterprise: z.object({ id: z.string(), name: z.string(), creditCode: z.string() }),
    supplier: z.object({ id: z.string(), name: z.string() }),
    catalogId: z.number().int(),
    clusterPilot: z.boolean(),
    submittedAt: z.string(),
    approvedAt: z.string(),
    payableFen: fen,
  })
  .meta({ id: 'SettlementLine' });

export const settlementBatchSchema = z
  .object({
    id: z.number().int(),
    createdAt: z.string(),
    actor: z.string(),
    budgetFen: fen.nullable(),
    totalFen: fen,
    applicationIds: z.array(z.number().int()),
  })
  .meta({ id: 'SettlementBatch' });

export const spotCheckRequestSchema = z
  .object({
    count: z.number().int().min(1).max(100_000).optional(),
    percent: z.number().int().min(1).max(100).optional(),
    seed: freeText(200).optional().describe('recorded; random when left out'),
    supplierId: z.string().max(64).optional(),
  })
  .refine((b) => (b.count === undefined) !== (b.percent === undefined), { message: 'give either count or percent', path: ['count'] })
  .meta({ id: 'SpotCheckRequest' });

export const spotCheckSchema = z
  .object({
    id: z.number().int(),
    drawnAt: z.string(),
    actor: z.string(),
    seed: z.string(),
    rule: z.union([z.object({ count: z.number().int() }), z.object({ percent: z.number().int() })]),
    filter: z.object({ supplierId: z.string().optional() }),
    population: z.array(z.number().int()).describe('approved or settled application ids when drawn'),
    items: z.array(
      z.object({
        applicationId: z.number().int(),
        contractId: z.string(),
        supplierId: z.string(),
        state: z.string(),
        outcome: z.enum(SPOT_CHECK_OUTCOMES).nullable(),
        note: z.string().nullable(),
        by: z.string().nullable(),
        at: z.string().nullable(),
        recovery: z.object({ amountFen: fen, at: z.string() }).nullable().describe('追回: marked for recovery'),
      }),
    ),
  })
  .meta({ id: 'SpotCheck' });

export const spotCheckOutcomeRequestSchema = z
  .object({ outcome: z.enum(SPOT_CHECK_OUTCOMES), note: freeText(2000, 0).optional().describe('required unless ok') })
  .meta({ id: 'SpotCheckOutcomeRequest' });

export const recoverySchema = z
  .object({ applicationId: z.number().int(), contractId: z.string(), supplierId: z.string(), spotCheckId: z.number().int(), amountFen: fen, reason: z.string(), by: z.string(), at: z.string() })
  .meta({ id: 'Recovery' });

export const quotaAdjustmentRequestSchema = z
  .object({
    quotaFen: fen.max(Number.MAX_SAFE_INTEGER),
    reason: freeText(2000),
    cite: z.array(z.object({ spotCheckId: z.number().int().min(1), applicationId: z.number().int().min(1) })).min(1).max(1000),
  })
  .meta({ id: 'QuotaAdjustmentRequest' });

export const quotaAdjustmentSchema = z
  .object({
    id: z.number().int(),
    supplierId: z.string(),
    fromFen: fen,
    toFen: fen,
    reason: z.string(),
    citedOutcomes: z.array(z.object({ spotCheckId: z.number().int(), applicationId: z.number().int(), outcome: z.enum(SPOT_CHECK_OUTCOMES) })),
    by: z.string(),
    at: z.string(),
  })
  .meta({ id: 'QuotaAdjustment' });
