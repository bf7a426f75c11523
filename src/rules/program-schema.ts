import { z } from 'zod';

/**
 * The shape of one program year (e.g. 2020 = 粤工信办函〔2020〕37号 with its 附件 catalog).
 *
 * A program year is *data*: the engine reads every rate, cap, window, group and policy switch
 * from here, so a second year is a new data file, never an engine change (SPEC "Interpretations").
 * Every value carries the clause it comes from and the dates it is effective for (SPEC
 * "Every rule below must be data or code that cites its clause"), either as a `cited(...)`
 * wrapper `{ value, citation, effective }` or, for records (catalog items, cities, groups),
 * as a `citation` + `effective` on the record itself.
 *
 * This schema is structural and JSON-representable (no transforms), so the API can publish it
 * through z.toJSONSchema; cross-record checks (unique ids, group members exist, …) live in
 * load-program.ts.
 */

export const citationSchema = z
  .string()
  .regex(/\S/, 'citation must not be blank')
  .describe('the clause the value comes from, e.g. "37号 §四", "附件 说明3", "SPEC 解释"');

/** ISO-8601 instant with an explicit offset; local times would make the engine depend on TZ. */
export const isoInstantSchema = z.iso.datetime({ offset: true });
export const dayStringSchema = z.iso.date();

export const effectiveSchema = z
  .object({ from: isoInstantSchema, to: isoInstantSchema })
  .describe('dates (inclusive) for which the value is in force');

/** `{ value, citation, effective }` — the wrapper every scalar parameter uses. */
export function cited<T extends z.ZodType>(value: T) {
  return z.object({ value, citation: citationSchema, effective: effectiveSchema });
}

export const fenSchema = z.int().nonnegative().describe('integer fen (0.01 yuan)');
export const basisPointsSchema = z.int().min(0).max(10_000).describe('basis points: 7000 = 70%');
const nonBlank = z.string().regex(/\S/, 'must not be blank');
export const bilingualSchema = z.object({ zh: nonBlank, en: nonBlank });

export const regionSchema = z.enum(['pearl-river-delta', 'east-west-north']);
export const supplierKindSchema = z.enum(['platform', 'other']);

export const windowSchema = z.object({ from: isoInstantSchema, to: isoInstantSchema });

const recordCitation = { citation: citationSchema, effective: effectiveSchema };

export const categorySchema = z.object({
  id: nonBlank,
  name: bilingualSchema,
  ...recordCitation,
});

/** Product conditions from the catalog's 主要功能模块 / 主要应用场景 / 备注 columns (SPEC rule 9). */
export const productConditionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('min-service-providers'), min: z.int().min(1), ...recordCitation }),
  z.object({ kind: z.literal('min-big-data-models'), min: z.int().min(1), ...recordCitation }),
  z.object({ kind: z.literal('min-function-modules'), min: z.int().min(1), ...recordCitation }),
  z.object({ kind: z.literal('cluster-pilot-only'), ...recordCitation }),
]);

export const catalogItemSchema = z.object({
  id: z.int().min(1).describe('序号 in the 附件 table'),
  category: nonBlank.describe('id of the 一级目录'),
  name: bilingualSchema.describe('二级目录'),
  capFen: cited(fenSchema.min(1)).describe('奖补上限'),
  perDeviceFen: cited(fenSchema.min(1)).nullable().describe('备注: 每台设备补贴 (附件 说明2)'),
  conditions: z.array(productConditionSchema),
  remark: z.string().nullable().describe('备注 text as printed'),
  ...recordCitation,
});

export const citySchema = z.object({
  code: z.string().regex(/^\d{6}$/, 'GB/T 2260 code is six digits'),
  name: nonBlank.describe('official name, e.g. 佛山市'),
  shortName: nonBlank.describe('name without 市, e.g. 佛山'),
  nameEn: nonBlank,
  region: regionSchema,
  eligible: z.boolean(),
  ineligibleReason: z.string().nullable(),
  ...recordCitation,
});

export const exclusionGroupSchema = z.object({
  id: nonBlank,
  name: bilingualSchema,
  members: z.array(z.int().min(1)).min(2),
  ...recordCitation,
});

export const programSchema = z.object({
  year: z.int().min(2000).max(2100),
  title: bilingualSchema,
  source: z.object({ document: nonBlank, issued: dayStringSchema, ...recordCitation }),
  effective: effectiveSchema,
  categories: z.array(categorySchema).min(1),
  catalog: z.array(catalogItemSchema).min(1),
  cities: z.array(citySchema).min(1),
  rates: z.object({
    byRegion: z.object({
      'pearl-river-delta': cited(basisPointsSchema),
      'east-west-north': cited(basisPointsSchema),
    }),
    clusterPilot: cited(basisPointsSchema),
  }),
  enterpriseCapFen: cited(fenSchema.min(1)),
  noRepeatSameItem: cited(z.boolean()),
  exclusionGroups: z.array(exclusionGroupSchema),
  windows: z.object({ application: cited(windowSchema), redemption: cited(windowSchema) }),
  quotas: z.object({
    supplierByKind: z.object({ platform: cited(fenSchema), other: cited(fenSchema) }),
    /** null = unlimited; 37号 §三(一) publishes no amounts, so these are run-time settings. */
    cityDefaultFen: cited(fenSchema.nullable()),
    cityFen: z.record(z.string().regex(/^\d{6}$/), cited(fenSchema.nullable())),
  }),
  redemption: z.object({
    deviceThreshold: cited(z.boolean()),
    invoiceCoversVoucher: cited(z.boolean()),
    paymentProofCoversVoucher: cited(z.boolean()),
    paymentProofFallsBackToPaid: cited(z.boolean()),
    acceptanceReportRequired: cited(z.boolean()),
    /** Contract must be signed on a Shanghai day strictly after this one; null = not checked. */
    contractSignedAfterDay: cited(dayStringSchema.nullable()),
    /** Paid amount must be ≥ this percent of the contract amount; null = not checked. */
    minPaidPercentOfContract: cited(z.int().min(0).max(100).nullable()),
  }),
  interpretations: z.object({
    rounding: cited(z.enum(['floor', 'half-up'])),
    enterpriseCapOverflow: cited(z.enum(['reduce-to-headroom', 'reject'])),
    quotaOverflow: cited(z.enum(['waitlist-whole-voucher'])),
    /** false: a later, smaller voucher may still be admitted after a larger one was waitlisted. */
    strictQueue: cited(z.boolean()),
    clusterPilotsFirst: cited(z.boolean()),
  }),
});

export type Program = z.output<typeof programSchema>;
export type ProgramData = z.input<typeof programSchema>;
export type CatalogItem = z.output<typeof catalogItemSchema>;
export type City = z.output<typeof citySchema>;
export type SupplierKind = z.output<typeof supplierKindSchema>;
export type ExclusionGroup = z.output<typeof exclusionGroupSchema>;
export type ProductCondition = z.output<typeof productConditionSchema>;
export interface Effective {
  from: string;
  to: string;
}
export interface Cited<T> {
  value: T;
  citation: string;
  effective: Effective;
}
