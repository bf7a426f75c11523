import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import {
  allocate,
  allocateRequestSchema,
  allocationSchema,
  evaluate,
  evaluateRequestSchema,
  evaluationSchema,
  getProgram,
  programSchema,
  redemptionSchema,
  validateAgainstProgram,
} from '../../../src/rules/index.js';

const program = getProgram(2020)!;

const apiExample = {
  program: 2020,
  enterprise: { city: '佛山', clusterPilot: false, priorVouchers: [{ catalogId: 20, year: 2019, voucherFen: 100_000, paid: true }] },
  applications: [
    { catalogId: 6, contractAmountFen: 25000000, appliedAt: '2020-06-01T10:00:00+08:00', serviceProviders: 1, bigDataModels: 0, functionModules: 5 },
  ],
};

const paths = (result: { success: boolean; error?: z.ZodError }) =>
  (result.error?.issues ?? []).map((issue) => issue.path.join('.'));

describe('evaluateRequestSchema (POST /v1/rules/evaluate)', () => {
  it('accepts the API.md example and feeds evaluate directly', () => {
    const body = evaluateRequestSchema.parse(apiExample);
    const result = evaluate(program, body.enterprise, body.applications);
    expect(result.applications[0]).toMatchObject({ decision: 'approved', voucherFen: 17_500_000 });
  });

  it('defaults clusterPilot and priorVouchers', () => {
    const body = evaluateRequestSchema.parse({ ...apiExample, enterprise: { city: '440600' } });
    expect(body.enterprise).toEqual({ city: '440600', clusterPilot: false, priorVouchers: [] });
  });

  it.each([
    ['a fractional fen amount', { contractAmountFen: 1.5 }, 'applications.0.contractAmountFen'],
    ['an unsafe integer', { contractAmountFen: 2 ** 53 }, 'applications.0.contractAmountFen'],
    ['a zero contract', { contractAmountFen: 0 }, 'applications.0.contractAmountFen'],
    ['a local time without offset', { appliedAt: '2020-06-01T10:00:00' }, 'applications.0.appliedAt'],
    ['a date only', { appliedAt: '2020-06-01' }, 'applications.0.appliedAt'],
    ['a string catalog id', { catalogId: '6' }, 'applications.0.catalogId'],
  ])('rejects %s naming the field', (_what, override, path) => {
    const bad = { ...apiExample, applications: [{ ...apiExample.applications[0], ...override }] };
    expect(paths(evaluateRequestSchema.safeParse(bad))).toContain(path);
  });

  it('accepts UTC notation for appliedAt', () => {
    const ok = { ...apiExample, applications: [{ ...apiExample.applications[0], appliedAt: '2020-05-25T02:00:00Z' }] };
    expect(evaluateRequestSchema.safeParse(ok).success).toBe(true);
  });

  it('requires 1..100 applications', () => {
    expect(paths(evaluateRequestSchema.safeParse({ ...apiExample, applications: [] }))).toContain('applications');
    const many = Array.from({ length: 101 }, () => apiExample.applications[0]);
    expect(paths(evaluateRequestSchema.safeParse({ ...apiExample, applications: many }))).toContain('applications');
    expect(evaluateRequestSchema.safeParse({ ...apiExample, applications: many.slice(1) }).success).toBe(true);
  });

  it('names a missing enterprise city', () => {
    expect(paths(evaluateRequestSchema.safeParse({ ...apiExample, enterprise: {} }))).toContain('enterprise.city');
  });
});

describe('allocateRequestSchema (POST /v1/rules/allocate)', () => {
  const application = {
    id: 'a1', enterpriseCity: '佛山', clusterPilot: false, supplierId: 's1', supplierKind: 'platform',
    voucherFen: 1_000_000, submittedAt: '2020-06-01T10:00:00+08:00',
  };

  it('accepts applications with quotas and feeds allocate directly', () => {
    const body = allocateRequestSchema.parse({ program: 2020, applications: [application], quotas: { cities: { '440600': null }, suppliers: { s1: 5 } } });
    const result = allocate(program, body.applications, body.quotas);
    expect(result.applications[0]).toMatchObject({ status: 'waitlisted' });
  });

  it.each([
    ['an unknown supplier kind', { supplierKind: 'telecom' }, 'applications.0.supplierKind'],
    ['a negative voucher', { voucherFen: -1 }, 'applications.0.voucherFen'],
    ['a missing id', { id: undefined }, 'applications.0.id'],
  ])('rejects %s naming the field', (_what, override, path) => {
    expect(paths(allocateRequestSchema.safeParse({ program: 2020, applications: [{ ...application, ...override }] }))).toContain(path);
  });

  it('rejects a negative city quota', () => {
    const result = allocateRequestSchema.safeParse({ program: 2020, applications: [application], quotas: { cities: { '440600': -1 } } });
    expect(paths(result)).toContain('quotas.cities.440600');
  });
});

describe('validateAgainstProgram', () => {
  it('lists unknown catalog items and cities with API paths', () => {
    const body = evaluateRequestSchema.parse({
      ...apiExample,
      enterprise: { city: '北京' },
      applications: [apiExample.applications[0], { ...apiExample.applications[0], catalogId: 99 }],
    });
    expect(validateAgainstProgram(program, body)).toEqual([
      { path: 'body.enterprise.city', message: expect.stringContaining('unknown city "北京"') },
      { path: 'body.applications.1.catalogId', message: 'unknown catalog item 99 in program 2020' },
    ]);
  });

  it('does not report Shenzhen: exclusion is a rule decision', () => {
    const body = evaluateRequestSchema.parse({ ...apiExample, enterprise: { city: '深圳' } });
    expect(validateAgainstProgram(program, body)).toEqual([]);
  });

  it('reports an unknown program year', () => {
    const body = evaluateRequestSchema.parse({ ...apiExample, program: 2030 });
    expect(validateAgainstProgram(undefined, body)).toEqual([{ path: 'body.program', message: 'unknown program year 2030' }]);
  });

  it('checks allocate requests: cities, quota keys and duplicate ids', () => {
    const app = { id: 'x', enterpriseCity: '佛山', supplierId: 's', supplierKind: 'other', voucherFen: 1, submittedAt: '2020-06-01T10:00:00Z' };
    const body = allocateRequestSchema.parse({
      program: 2020,
      applications: [app, { ...app, id: 'y', enterpriseCity: 'Atlantis' }, app],
      quotas: { cities: { 佛山: 1, 火星: 2 } },
    });
    expect(validateAgainstProgram(program, body).map((i) => i.path)).toEqual([
      'body.applications.1.enterpriseCity',
      'body.applications.2.id',
      'body.quotas.cities.火星',
    ]);
  });
});

describe('JSON Schema generation (OpenAPI via z.toJSONSchema)', () => {
  it.each([
    ['evaluateRequestSchema', evaluateRequestSchema],
    ['allocateRequestSchema', allocateRequestSchema],
    ['evaluationSchema', evaluationSchema],
    ['allocationSchema', allocationSchema],
    ['redemptionSchema', redemptionSchema],
    ['programSchema', programSchema],
  ] as const)('%s converts to JSON Schema', (_name, schema) => {
    const input = z.toJSONSchema(schema, { io: 'input' });
    const output = z.toJSONSchema(schema, { io: 'output' });
    expect(input.type).toBe('object');
    expect(output.type).toBe('object');
    expect(JSON.stringify(output)).not.toContain('"not":{}');
  });

  it('describes the evaluate body with its limits', () => {
    const schema = z.toJSONSchema(evaluateRequestSchema, { io: 'input' }) as { properties: Record<string, { minItems?: number; maxItems?: number }> };
    expect(schema.properties.applications).toMatchObject({ minItems: 1, maxItems: 100 });
  });
});
