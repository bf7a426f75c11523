import { describe, it, expect } from 'vitest';
import { allocate, evaluate, getProgram, redeem } from '../../../src/rules/index.js';

/** Direct callers may bypass the HTTP schemas; the engine must answer, never throw. */
const program = getProgram(2020)!;
const poison = <T>(value: unknown): T => value as T;

describe('poisoned input', () => {
  it('evaluate rejects nonsense applications instead of throwing', () => {
    const result = evaluate(program, poison({ city: 42 }), poison([
      { catalogId: '6', contractAmountFen: -5, appliedAt: 123 },
      { catalogId: 1, contractAmountFen: Number.NaN, appliedAt: '2020-06-01T10:00:00+08:00' },
      {},
    ]));
    expect(result.enterprise.eligible).toBe(false);
    expect(result.applications.map((a) => a.decision)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(result.totalVoucherFen).toBe(0);
  });

  it('evaluate rejects an unsafe contract amount for an eligible enterprise', () => {
    const result = evaluate(program, { city: '佛山' }, [{ catalogId: 1, contractAmountFen: 2 ** 60, appliedAt: '2020-06-01T10:00:00+08:00' }]);
    expect(result.applications[0]).toMatchObject({ decision: 'rejected', voucherFen: 0 });
    expect(result.applications[0]!.reasons.map((r) => r.code)).toContain('ZERO_VOUCHER');
  });

  it('allocate rejects nonsense rows and keeps going', () => {
    const result = allocate(program, poison([
      { id: 'a', enterpriseCity: '佛山', supplierId: 's', supplierKind: 'other', voucherFen: Number.NaN, submittedAt: '2020-06-01T10:00:00Z' },
      { id: 'b', enterpriseCity: '佛山', supplierId: 's', supplierKind: 'other', voucherFen: 1, submittedAt: 'yesterday' },
      { id: 'c', enterpriseCity: '佛山', supplierId: 't', supplierKind: 'bogus', voucherFen: 1, submittedAt: '2020-06-01T10:00:00Z' },
      { id: 'd', enterpriseCity: '佛山', supplierId: 's', supplierKind: 'other', voucherFen: 1, submittedAt: '2020-06-01T10:00:00Z' },
    ]));
    const status = Object.fromEntries(result.applications.map((e) => [e.id, e.status]));
    expect(status).toEqual({ a: 'rejected', b: 'rejected', c: 'waitlisted', d: 'admitted' });
  });

  it('redeem rejects nonsense evidence instead of throwing', () => {
    const result = redeem(
      program,
      poison({ catalogId: 5, voucherFen: Number.NaN, contractAmountFen: 'x' }),
      poison({ invoiceAmountFen: null, paidAmountFen: Number.POSITIVE_INFINITY }),
      null,
      'not a time',
    );
    expect(result.decision).toBe('rejected');
    expect(result.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['INVALID_VOUCHER_AMOUNT', 'INVALID_TIMESTAMP']));
  });
});
