import { describe, it, expect } from 'vitest';
import {
  allocate,
  allocationSchema,
  evaluate,
  evaluationSchema,
  getProgram,
  redeem,
  redemptionSchema,
  type AllocationApplication,
  type ApplicationInput,
  type EnterpriseInput,
  type QuotasInput,
  type RedemptionEvidence,
  type RedemptionVoucher,
} from '../../../src/rules/index.js';
import { loadCases, merge } from './load-cases.js';
import { buildAllocationApplication, buildApplication, buildEnterprise, buildEvidence, buildVoucher, REDEEM_AT } from './builders.js';

const program = getProgram(2020)!;
const codesOf = (reasons: { code: string }[]) => reasons.map((r) => r.code);

function expectCodes(actual: string[], expected: { codes?: string[]; notCodes?: string[] }): void {
  if (expected.codes) expect(actual).toEqual(expect.arrayContaining(expected.codes));
  for (const code of expected.notCodes ?? []) expect(actual).not.toContain(code);
}

interface ExpectedApplication {
  decision?: string;
  voucherFen?: number;
  requiredDevices?: number | null;
  codes?: string[];
  notCodes?: string[];
}

describe('evaluate — table of cases (cases/evaluate.yaml)', () => {
  const cases = loadCases<
    { enterprise?: Partial<EnterpriseInput>; applications: Partial<ApplicationInput>[] },
    { enterprise?: Record<string, unknown>; enterpriseCodes?: string[]; applications: ExpectedApplication[]; totalVoucherFen?: number }
  >('evaluate.yaml');

  it.each(cases.map((c) => [`${c.name} [${c.clause}]`, c] as const))('%s', (_name, c) => {
    const enterprise = buildEnterprise(c.input.enterprise ?? {});
    const applications = c.input.applications.map((a) => buildApplication(a));
    const result = evaluate(program, enterprise, applications);

    expect(evaluationSchema.safeParse(result).success).toBe(true);
    if (c.expected.enterprise) expect(result.enterprise).toMatchObject(c.expected.enterprise);
    if (c.expected.enterpriseCodes) expect(codesOf(result.enterprise.reasons)).toEqual(c.expected.enterpriseCodes);
    expect(result.applications).toHaveLength(c.expected.applications.length);
    c.expected.applications.forEach((expected, i) => {
      const actual = result.applications[i]!;
      expect(actual.catalogId).toBe(applications[i]!.catalogId);
      if (expected.decision !== undefined) expect(actual.decision, `application ${i} decision`).toBe(expected.decision);
      if (expected.voucherFen !== undefined) expect(actual.voucherFen, `application ${i} voucherFen`).toBe(expected.voucherFen);
      if (expected.requiredDevices !== undefined) expect(actual.requiredDevices, `application ${i} requiredDevices`).toBe(expected.requiredDevices);
      expectCodes(codesOf(actual.reasons), expected);
      // Every reason cites a clause; every decision's explanation names the clauses used.
      for (const r of actual.reasons) expect(r.clause.trim()).not.toBe('');
      expect(actual.explanation.value).toBe(actual.voucherFen);
    });
    if (c.expected.totalVoucherFen !== undefined) expect(result.totalVoucherFen).toBe(c.expected.totalVoucherFen);
  });
});

describe('allocate — table of cases (cases/allocate.yaml)', () => {
  const cases = loadCases<
    { applications: Partial<AllocationApplication>[]; quotas?: QuotasInput },
    {
      order?: string[];
      entries?: Record<string, Record<string, unknown> & { codes?: string[] }>;
      cities?: Record<string, Record<string, unknown>>;
      suppliers?: Record<string, Record<string, unknown>>;
      totals?: Record<string, number>;
    }
  >('allocate.yaml');

  it.each(cases.map((c) => [`${c.name} [${c.clause}]`, c] as const))('%s', (_name, c) => {
    const applications = c.input.applications.map((a) => buildAllocationApplication(a));
    const result = allocate(program, applications, c.input.quotas);

    expect(allocationSchema.safeParse(result).success).toBe(true);
    if (c.expected.order) expect(result.applications.map((e) => e.id)).toEqual(c.expected.order);
    for (const [id, { codes, ...fields }] of Object.entries(c.expected.entries ?? {})) {
      const entry = result.applications.find((e) => e.id === id);
      expect(entry, `entry ${id}`).toBeDefined();
      expect(entry).toMatchObject(fields);
      expectCodes(codesOf(entry!.reasons), { codes });
    }
    // Every decision, admitted ones included, says why and cites a clause.
    for (const entry of result.applications) {
      expect(entry.reasons.length, `entry ${entry.id} has a reason`).toBeGreaterThan(0);
      for (const r of entry.reasons) expect(r.clause.trim()).not.toBe('');
    }
    for (const [code, fields] of Object.entries(c.expected.cities ?? {})) {
      expect(result.balances.cities.find((b) => b.city.code === code)).toMatchObject(fields);
    }
    for (const [id, fields] of Object.entries(c.expected.suppliers ?? {})) {
      expect(result.balances.suppliers.find((b) => b.supplierId === id)).toMatchObject(fields);
    }
    if (c.expected.totals) expect(result.totals).toMatchObject(c.expected.totals);
  });
});

describe('redeem — table of cases (cases/redeem.yaml)', () => {
  const cases = loadCases<
    { voucher?: Partial<RedemptionVoucher>; evidence?: Partial<RedemptionEvidence>; verifiedDevices?: number; at?: string },
    { decision: string; payableFen?: number; requiredDevices?: number | null; activeDevices?: number | null; codes?: string[]; notCodes?: string[] }
  >('redeem.yaml');

  it.each(cases.map((c) => [`${c.name} [${c.clause}]`, c] as const))('%s', (_name, c) => {
    const voucher = merge(buildVoucher(), c.input.voucher);
    const evidence = merge(buildEvidence(), c.input.evidence);
    const result = redeem(program, voucher, evidence, c.input.verifiedDevices ?? null, c.input.at ?? REDEEM_AT);

    expect(redemptionSchema.safeParse(result).success).toBe(true);
    const { codes, notCodes, ...fields } = c.expected;
    expect(result).toMatchObject(fields);
    expectCodes(codesOf(result.reasons), { codes, notCodes });
    if (result.decision === 'approved') expect(result.payableFen).toBeLessThanOrEqual(result.voucherFen);
    else expect(result.payableFen).toBe(0);
    // An approval lists the checks it rests on, every one passed.
    if (result.decision === 'approved') expect(result.checks.length > 0 && result.checks.every((k) => k.passed)).toBe(true);
    for (const r of result.reasons) expect(r.clause.trim()).not.toBe('');
  });

  it.each([
    ['no evidence', undefined],
    ['null evidence', null],
    ['a string', 'evidence'],
  ])('answers %s with a reason, never an exception', (_name, evidence) => {
    const result = redeem(program, buildVoucher(), evidence as unknown as RedemptionEvidence, null, REDEEM_AT);
    expect(result).toMatchObject({ decision: 'rejected', payableFen: 0 });
    expect(codesOf(result.reasons)).toContain('INVALID_EVIDENCE');
  });

  it('cites rule 10 (the 2019 process) for the evidence checks, not 37号 §五(一)', () => {
    const result = redeem(program, buildVoucher(), buildEvidence({ invoiceAmountFen: 0, acceptanceReport: false }), null, REDEEM_AT);
    for (const code of ['INVOICE_BELOW_VOUCHER', 'ACCEPTANCE_REPORT_MISSING']) {
      expect(result.reasons.find((r) => r.code === code)!.clause).toMatch(/^SPEC 规则10/);
    }
    expect(JSON.stringify(result)).not.toContain('§五(一)');
  });
});
