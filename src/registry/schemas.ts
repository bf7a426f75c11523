/**
 * zod schemas of the registry API: request schemas validate (and may coerce query strings);
 * response schemas are plain and JSON-representable (no transforms) so the OpenAPI document
 * (src/api/openapi.ts) can publish them; `.meta({ id })` makes each a named component.
 */
import { z } from 'zod';
import { boundedInstant } from '../time/instant.js';
import { creditCodeProblem } from './credit-code.js';
import { MAX_DEVICES_PER_REQUEST } from './devices.js';
import { MAX_PAGE_LIMIT } from './pagination.js';
import { roleSchema } from './roles.js';

// Generic pieces (reasons, cities, enums) carry no component id, so they cannot collide with
// the rules engine's components of the same name in the one OpenAPI document.

// ── shared pieces ────────────────────────────────────────────────────────────────────────

export const fenSchema = z.number().int().nonnegative().max(1e13).describe('integer fen (0.01 yuan)');
const instantIn = boundedInstant().describe('ISO-8601 with offset, e.g. 2020-06-01T10:00:00+08:00');
const instantOut = z.string().describe('ISO-8601, Asia/Shanghai offset (+08:00)');
const idSchema = z.string().min(1).max(64);
const text = (max: number) => z.string().trim().min(1).max(max);

export const supplierKindSchema = z.enum(['platform', 'other']);
export const contractStatusSchema = z.enum(['admitted', 'waitlisted', 'rejected']);
export const decisionSchema = z.enum(['approved', 'reduced', 'rejected']);

export const cityRefSchema = z.object({ name: z.string(), code: z.string() });
export const reasonSchema = z
  .object({ code: z.string(), clause: z.string(), effect: z.string().optional(), message: z.string() })
  .describe('why the engine decided as it did, with the notice clause');
export const priorVoucherSchema = z
  .object({
    catalogId: z.number().int().min(1).max(1000),
    year: z.number().int().min(2000).max(2100),
    voucherFen: fenSchema.describe('the prior voucher amount (same-year vouchers count against the enterprise cap, 说明3)'),
    paid: z.boolean().describe('whether it was actually paid; only a paid voucher blocks a repeat (说明4)'),
  })
  .describe('说明4: a voucher received in an earlier cycle');

/** `?limit=1..1000&cursor=` on every list. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).optional().describe(`page size, 1..${MAX_PAGE_LIMIT}, default 100`),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
});

/** `{ items, nextCursor }`; nextCursor is null on the last page. */
export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() }).meta({ id });
}

export const idParamsSchema = z.object({ id: idSchema });

// ── suppliers ────────────────────────────────────────────────────────────────────────────

export const supplierCreateSchema = z
  .object({ name: text(200), kind: supplierKindSchema })
  .meta({ id: 'SupplierCreate' });

export const supplierSchema = z
  .object({ id: z.string(), name: z.string(), kind: supplierKindSchema, quotaFen: fenSchema, createdAt: instantOut })
  .meta({ id: 'Supplier' });

export const supplierQuotaSchema = z.object({ quotaFen: fenSchema }).meta({ id: 'SupplierQuotaUpdate' });

// ── enterprises ──────────────────────────────────────────────────────────────────────────

export const enterpriseCreateSchema = z
  .object({
    name: text(200),
    creditCode: z
      .string()
      .trim()
      .superRefine((code, ctx) => {
        const problem = creditCodeProblem(code.toUpperCase());
        if (problem) ctx.addIssue({ code: 'custom', message: `统一社会信用代码 ${problem}` });
      })
      .describe('统一社会信用代码 (GB 32100-2015), check character verified'),
    city: text(20).describe('city name (佛山 or 佛山市) or GB/T 2260 code (440600)'),
    clusterPilot: z.boolean(),
    priorVouchers: z.array(priorVoucherSchema).max(100).optional(),
  })
  .meta({ id: 'EnterpriseCreate' });

export const enterpriseSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    creditCode: z.string(),
    city: cityRefSchema,
    clusterPilot: z.boolean(),
    priorVouchers: z.array(priorVoucherSchema),
    createdAt: instantOut,
  })
  .meta({ id: 'Enterprise' });

// ── contracts ────────────────────────────────────────────────────────────────────────────

const count = z.number().int().min(0).max(1000);

export const contractCreateSchema = z
  .object({
    enterpriseId: idSchema,
    supplierId: idSchema,
    program: z.number().int().min(2000).max(2100),
    catalogId: z.number().int().min(1).max(1000).describe('序号 in the notice’s 附件 (1–27)'),
    contractAmountFen: fenSchema,
    appliedAt: instantIn,
    contractSignedAt: instantIn.optional(),
    serviceProviders: count.optional(),
    bigDataModels: count.optional(),
    functionModules: count.optional(),
  })
  .meta({ id: 'ContractCreate' });

export const contractEvaluationSchema = z
  .object({
    program: z.number().int(),
    decision: decisionSchema,
    voucherFen: fenSchema,
    requiredDevices: z.number().int().nullable(),
    reasons: z.array(reasonSchema),
    explanation: z.unknown(),
    enterprise: z.object({
      eligible: z.boolean(),
      city: cityRefSchema.nullable(),
      region: z.string().nullable(),
      clusterPilot: z.boolean().optional(),
      ratePercent: z.number().nullable(),
      rateBasisPoints: z.number().int().nullable().optional(),
      reasons: z.array(reasonSchema),
    }),
  })
  .meta({ id: 'ContractEvaluation' });

export const allocationOutcomeSchema = z
  .object({
    status: z.enum(['admitted', 'waitlisted', 'rejected']),
    position: z.number().int(),
    reasons: z.array(reasonSchema),
    balances: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'ContractAllocation' });

export const contractSchema = z
  .object({
    id: z.string(),
    enterpriseId: z.string(),
    supplierId: z.string(),
    program: z.number().int(),
    catalogId: z.number().int(),
    contractAmountFen: fenSchema,
    appliedAt: instantOut,
    contractSignedAt: instantOut.nullable(),
    serviceProviders: z.number().int().nullable(),
    bigDataModels: z.number().int().nullable(),
    functionModules: z.number().int().nullable(),
    voucherFen: fenSchema,
    requiredDevices: z.number().int().nullable(),
    decision: decisionSchema,
    status: contractStatusSchema,
    evaluation: contractEvaluationSchema,
    allocation: allocationOutcomeSchema.nullable(),
    createdAt: instantOut,
    updatedAt: instantOut,
  })
  .meta({ id: 'Contract' });

// ── devices ──────────────────────────────────────────────────────────────────────────────

export const deviceInputSchema = z
  .object({
    serial: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[!-~](?:[ -~]*[!-~])?$/, 'printable ASCII, no leading or trailing space'),
    model: text(200).optional(),
    name: text(200).optional(),
  })
  .meta({ id: 'DeviceInput' });

export const deviceRegisterSchema = z
  .object({ devices: z.array(deviceInputSchema).min(1).max(MAX_DEVICES_PER_REQUEST) })
  .meta({ id: 'DeviceRegistration' });

export const issuedDeviceSchema = z
  .object({
    id: z.string().describe('MQTT client id and username'),
    serial: z.string(),
    token: z.string().describe('MQTT password: 32 hex chars, shown only in this response'),
  })
  .meta({ id: 'IssuedDevice' });

export const issuedDevicesSchema = z.object({ devices: z.array(issuedDeviceSchema) }).meta({ id: 'IssuedDevices' });

export const deviceSchema = z
  .object({
    id: z.string(),
    serial: z.string(),
    model: z.string().nullable(),
    name: z.string().nullable(),
    contractId: z.string(),
    supplierId: z.string(),
    enabled: z.boolean(),
    createdAt: instantOut,
  })
  .meta({ id: 'Device' });

export const devicePatchSchema = z.object({ enabled: z.boolean() }).meta({ id: 'DevicePatch' });

// ── quotas ───────────────────────────────────────────────────────────────────────────────

export const yearParamsSchema = z.object({ year: z.coerce.number().int().min(2000).max(2100) });
export const cityQuotaParamsSchema = yearParamsSchema.extend({ code: text(20) });
export const cityQuotaSchema = z
  .object({ quotaFen: fenSchema.nullable().describe('null = unlimited') })
  .meta({ id: 'CityQuotaUpdate' });

export const programQuotasSchema = z
  .object({
    program: z.number().int(),
    cities: z.array(
      z.object({ code: z.string(), name: z.string(), quotaFen: fenSchema.nullable(), usedFen: fenSchema }),
    ),
    suppliers: z.array(
      z.object({ id: z.string(), name: z.string(), kind: supplierKindSchema, quotaFen: fenSchema, usedFen: fenSchema }),
    ),
  })
  .meta({ id: 'ProgramQuotas' });

// ── API keys ─────────────────────────────────────────────────────────────────────────────

export const apiKeyCreateSchema = z
  .object({
    role: roleSchema,
    supplierId: idSchema.optional(),
    expiresAt: instantIn.optional().describe('when the key stops working (must be in the future); no expiry when absent'),
  })
  .meta({ id: 'ApiKeyCreate' });

export const apiKeySchema = z
  .object({
    id: z.string(),
    role: roleSchema,
    supplierId: z.string().nullable(),
    createdAt: instantOut,
    revokedAt: instantOut.nullable(),
    expiresAt: instantOut.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const issuedApiKeySchema = z
  .object({
    id: z.string(),
    key: z.string().describe('the bearer key, shown only in this response'),
    role: roleSchema,
    supplierId: z.string().nullable(),
    createdAt: instantOut,
    expiresAt: instantOut.nullable(),
  })
  .meta({ id: 'IssuedApiKey' });

// ── audit ────────────────────────────────────────────────────────────────────────────────

export const auditQuerySchema = pageQuerySchema.extend({
  subject: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
});

export const auditEntrySchema = z
  .object({
    id: z.number().int(),
    at: instantOut,
    actor: z.string().describe('API key id, or "system"'),
    action: z.string(),
    subject: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

export const supplierPageSchema = pageOf(supplierSchema, 'SupplierPage');
export const enterprisePageSchema = pageOf(enterpriseSchema, 'EnterprisePage');
export const devicePageSchema = pageOf(deviceSchema, 'DevicePage');
export const apiKeyPageSchema = pageOf(apiKeySchema, 'ApiKeyPage');
export const auditPageSchema = pageOf(auditEntrySchema, 'AuditPage');
