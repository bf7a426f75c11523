import { z } from 'zod';
import { boundedInstant } from '../time/instant.js';
import { REASON_CODES, REASON_EFFECTS } from './reasons.js';
import { regionSchema, supplierKindSchema } from './program-schema.js';
import type { Explanation } from './explain.js';

/**
 * HTTP request and response schemas of the rules routes (API.md "Rules"). They are the single
 * source of truth: the API validates with them, types come from z.infer, and OpenAPI is
 * generated from them with z.toJSONSchema — so no transforms or custom types here.
 */

const fen = z.int().nonnegative().describe('integer fen (0.01 yuan)');
const positiveFen = z.int().min(1).describe('integer fen (0.01 yuan), > 0');
const count = z.int().nonnegative();
/** ISO-8601 with an offset (`Z` or `+08:00`); local times are refused (API.md). */
const instant = boundedInstant();
const cityInput = z
  .string()
  .min(1)
  .describe('city as name (佛山 or 佛山市) or GB/T 2260 code (440600)');
const programYear = z.int().min(2000).max(2100).describe('program year, e.g. 2020');

// ---------------------------------------------------------------- shared parts

export const reasonSchema = z.object({
  code: z.enum(REASON_CODES),
  clause: z.string(),
  effect: z.enum(REASON_EFFECTS),
  message: z.string(),
});

export const explanationParameterSchema = z.object({
  name: z.string(),
  value: z.unknown(),
  citation: z.string(),
});

export const explanationSchema: z.ZodType<Explanation> = z.object({
  rule: z.string(),
  clause: z.string(),
  note: z.string(),
  inputs: z.record(z.string(), z.unknown()),
  parameters: z.array(explanationParameterSchema),
  value: z.unknown(),
  get children() {
    return z.array(explanationSchema);
  },
});

export const cityRefSchema = z.object({ name: z.string(), code: z.string() });

// ---------------------------------------------------------------- evaluate

export const priorVoucherSchema = z.object({
  catalogId: z.int().min(1),
  year: programYear,
  /** Counted against the enterprise cap (附件 说明3) when `year` is the evaluated program's year. */
  voucherFen: fen.describe('the prior voucher amount; required (a same-year voucher counts against the 说明3 cap)'),
  /** 说明4 excludes items "曾领取服务券并获得相关财政补贴": only a paid voucher blocks a repeat. */
  paid: z.boolean().describe('whether the voucher was actually paid out; only a paid one blocks a repeat (说明4)'),
});

export const enterpriseInputSchema = z.object({
  city: cityInput,
  clusterPilot: z.boolean().default(false),
  priorVouchers: z.array(priorVoucherSchema).max(1000).default([]),
});

export const applicationInputSchema = z.object({
  catalogId: z.int().min(1).describe('序号 in the program catalog (1–27 in 2020)'),
  contractAmountFen: positiveFen,
  appliedAt: instant,
  serviceProviders: count.optional(),
  bigDataModels: count.optional(),
  functionModules: count.optional(),
});

export const evaluateRequestSchema = z.object({
  program: programYear,
  enterprise: enterpriseInputSchema,
  applications: z.array(applicationInputSchema).min(1).max(100),
});

export const decisionSchema = z.enum(['approved', 'reduced', 'rejected']);

export const applicationResultSchema = z.object({
  catalogId: z.int(),
  decision: decisionSchema,
  voucherFen: fen,
  requiredDevices: count.nullable().describe('for per-device items (附件 说明2), else null'),
  reasons: z.array(reasonSchema),
  explanation: explanationSchema,
});

export const enterpriseResultSchema = z.object({
  eligible: z.boolean(),
  city: cityRefSchema.nullable(),
  region: regionSchema.nullable(),
  clusterPilot: z.boolean(),
  ratePercent: z.number().nullable(),
  rateBasisPoints: z.int().nullable(),
  reasons: z.array(reasonSchema),
});

export const evaluationSchema = z.object({
  program: z.int(),
  enterprise: enterpriseResultSchema,
  applications: z.array(applicationResultSchema),
  totalVoucherFen: fen,
});

// ---------------------------------------------------------------- allocate

export const allocationApplicationSchema = z.object({
  id: z.string().min(1),
  enterpriseCity: cityInput,
  clusterPilot: z.boolean().default(false),
  supplierId: z.string().min(1),
  supplierKind: supplierKindSchema,
  voucherFen: positiveFen,
  submittedAt: instant,
  catalogId: z.int().min(1).optional().describe("the voucher's catalog item: checks the voucher against its 奖补上限"),
});

export const quotasInputSchema = z.object({
  /** Keyed by city code or name; null = unlimited. Overrides the program's defaults. */
  cities: z.record(z.string(), fen.nullable()).optional(),
  /** Keyed by supplier id. Overrides the initial quota by kind (37号 §三(二)). */
  suppliers: z.record(z.string(), fen).optional(),
});

export const allocateRequestSchema = z.object({
  program: programYear,
  applications: z.array(allocationApplicationSchema).min(1).max(200_000),
  quotas: quotasInputSchema.optional(),
});

export const allocationEntrySchema = z.object({
  id: z.string(),
  order: z.int().min(1).describe('1-based processing position'),
  status: z.enum(['admitted', 'waitlisted', 'rejected']),
  clusterPilot: z.boolean(),
  submittedAt: z.string(),
  voucherFen: z.int(),
  city: cityRefSchema.nullable(),
  supplierId: z.string(),
  supplierKind: supplierKindSchema,
  cityBalanceBeforeFen: fen.nullable().describe('null = unlimited (or no city)'),
  cityBalanceAfterFen: fen.nullable(),
  supplierBalanceBeforeFen: fen,
  supplierBalanceAfterFen: fen,
  reasons: z.array(reasonSchema),
});

export const cityBalanceSchema = z.object({
  city: cityRefSchema,
  initialFen: fen.nullable(),
  admittedFen: fen,
  remainingFen: fen.nullable(),
});

export const supplierBalanceSchema = z.object({
  supplierId: z.string(),
  kind: supplierKindSchema.nullable(),
  initialFen: fen,
  admittedFen: fen,
  remainingFen: fen,
});

export const allocationSchema = z.object({
  program: z.int(),
  parameters: z.array(explanationParameterSchema),
  applications: z.array(allocationEntrySchema),
  balances: z.object({
    cities: z.array(cityBalanceSchema),
    suppliers: z.array(supplierBalanceSchema),
  }),
  totals: z.object({
    admitted: count,
    waitlisted: count,
    rejected: count,
    admittedFen: fen,
    waitlistedFen: fen,
  }),
});

// ---------------------------------------------------------------- redeem

const dayOrInstant = z
  .union([instant, z.iso.date()])
  .describe('ISO instant with offset, or a bare date read as an Asia/Shanghai day');

export const redemptionVoucherSchema = z.object({
  catalogId: z.int().min(1),
  voucherFen: fen.describe('the admitted voucher: the payable amount is never above it'),
  contractAmountFen: fen.describe('contract amount at application'),
  requiredDevices: count.nullable().optional(),
  /** The rate the voucher was computed with (37号 §四); needed to recompute from the actual contract. */
  rateBasisPoints: z.int().min(0).max(10000).optional().describe('rate used at application, basis points (7000 = 70%)'),
  contractSignedAt: dayOrInstant.nullable().optional(),
});

export const redemptionEvidenceSchema = z.object({
  invoiceNumber: z.string().trim().min(1).max(64).optional().describe('发票号码'),
  invoiceAmountFen: fen,
  invoiceDate: dayOrInstant.optional(),
  paidAmountFen: fen.describe('amount the enterprise actually paid the supplier'),
  paymentProofAmountFen: fen.optional().describe('amount on the payment proof (付款凭证); evidence of its own'),
  paymentDate: dayOrInstant.optional().describe('date on the payment proof'),
  actualContractAmountFen: fen.optional().describe('contract amount actually signed, when below the amount at application (37号 §四 实际合同额)'),
  acceptanceReport: z.boolean(),
  acceptanceReportDate: dayOrInstant.optional(),
  contractSignedAt: dayOrInstant.optional().describe('contract signing date; overrides the one registered with the contract'),
});

export const redemptionCheckSchema = z.object({ rule: z.string(), clause: z.string(), passed: z.boolean() });

export const redemptionSchema = z.object({
  program: z.int(),
  catalogId: z.int(),
  decision: z.enum(['approved', 'rejected']),
  voucherFen: fen.describe('the admitted voucher'),
  payableFen: fen.describe('amount to pay: from the actual contract, never above voucherFen; 0 when rejected'),
  requiredDevices: count.nullable().describe('说明2, from the payable amount'),
  activeDevices: count.nullable(),
  reasons: z.array(reasonSchema),
  /** Every check that ran, passed or not: an approval lists what it rests on. */
  checks: z.array(redemptionCheckSchema),
  explanation: explanationSchema,
});

// ---------------------------------------------------------------- types

export type EvaluateRequest = z.infer<typeof evaluateRequestSchema>;
/** Engine input: defaults (clusterPilot false, no prior vouchers) may be omitted. */
export type EnterpriseInput = z.input<typeof enterpriseInputSchema>;
export type ApplicationInput = z.input<typeof applicationInputSchema>;
export type PriorVoucher = z.infer<typeof priorVoucherSchema>;
export type Evaluation = z.infer<typeof evaluationSchema>;
export type ApplicationResult = z.infer<typeof applicationResultSchema>;
export type EnterpriseResult = z.infer<typeof enterpriseResultSchema>;
export type Decision = z.infer<typeof decisionSchema>;
export type AllocateRequest = z.infer<typeof allocateRequestSchema>;
export type AllocationApplication = z.input<typeof allocationApplicationSchema>;
export type QuotasInput = z.input<typeof quotasInputSchema>;
export type Allocation = z.infer<typeof allocationSchema>;
export type AllocationEntry = z.infer<typeof allocationEntrySchema>;
export type RedemptionVoucher = z.input<typeof redemptionVoucherSchema>;
export type RedemptionEvidence = z.input<typeof redemptionEvidenceSchema>;
export type Redemption = z.infer<typeof redemptionSchema>;
