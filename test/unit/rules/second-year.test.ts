import { describe, it, expect } from 'vitest';
import { allocate, evaluate, getProgram, loadProgram, redeem, requiredDevices } from '../../../src/rules/index.js';
import { program2021Data } from './fixtures/program-2021.js';
import { buildApplication, buildEnterprise, buildEvidence, buildVoucher, buildAllocationApplication } from './builders.js';

describe('a second program year is data only (test fixture 2021)', () => {
  const program2021 = loadProgram(program2021Data);
  const program2020 = getProgram(2020)!;
  const application = buildApplication({ catalogId: 6, contractAmountFen: 50_000_000, appliedAt: '2021-04-01T10:00:00+08:00' });

  it('loads and validates like a built-in year', () => {
    expect(program2021.year).toBe(2021);
    expect(program2021.catalog).toHaveLength(27);
  });

  it('evaluates with its own rates, caps and windows, citing its own clauses', () => {
    const result = evaluate(program2021, buildEnterprise({ city: '佛山' }), [application]);
    expect(result.program).toBe(2021);
    expect(result.enterprise).toMatchObject({ ratePercent: 60, rateBasisPoints: 6000 });
    // 50,000,000 × 60% = 30,000,000, under 2021's #6 cap of 40万 (2020 would cap at 20万).
    expect(result.applications[0]).toMatchObject({ decision: 'approved', voucherFen: 30_000_000 });
    expect(result.applications[0]!.reasons[0]).toMatchObject({ code: 'RATE_PRD', clause: '2021号 §四' });

    const same2020 = evaluate(program2020, buildEnterprise({ city: '佛山' }), [{ ...application, appliedAt: '2020-06-01T10:00:00+08:00' }]);
    expect(same2020.applications[0]).toMatchObject({ decision: 'approved', voucherFen: 20_000_000 });
  });

  it('uses its cluster-pilot rate and enterprise cap', () => {
    const result = evaluate(program2021, buildEnterprise({ city: '汕头', clusterPilot: true }), [
      buildApplication({ catalogId: 6, contractAmountFen: 40_000_000, appliedAt: '2021-04-01T10:00:00+08:00' }),
      buildApplication({ catalogId: 26, contractAmountFen: 40_000_000, appliedAt: '2021-04-02T10:00:00+08:00' }),
    ]);
    expect(result.enterprise.ratePercent).toBe(90);
    // 36,000,000 (under the 40万 cap); then 30万 (item cap) reduced to 50万 − 36万 = 14万.
    expect(result.applications.map((a) => [a.decision, a.voucherFen])).toEqual([
      ['approved', 36_000_000],
      ['reduced', 14_000_000],
    ]);
    expect(result.applications[1]!.reasons.find((r) => r.code === 'ENTERPRISE_CAP_REDUCED')?.clause).toBe('2021号 附件 说明3');
  });

  it('applies its own application window', () => {
    const in2020Window = evaluate(program2021, buildEnterprise(), [buildApplication({ appliedAt: '2020-06-01T10:00:00+08:00' })]);
    expect(in2020Window.applications[0]).toMatchObject({ decision: 'rejected' });
    expect(in2020Window.applications[0]!.reasons[0]).toMatchObject({ code: 'OUTSIDE_APPLICATION_WINDOW', clause: '2021号 §一(一)' });
    const opening = evaluate(program2021, buildEnterprise(), [buildApplication({ appliedAt: '2021-03-01T01:00:00Z' })]);
    expect(opening.applications[0]!.decision).toBe('approved');
  });

  it('computes required devices from its own per-device amount', () => {
    expect(requiredDevices(program2021, 5, 10_000_000)).toBe(100);
    expect(requiredDevices(program2020, 5, 10_000_000)).toBe(67);
  });

  it('redeems under its own switches (no acceptance report required)', () => {
    const result = redeem(program2021, buildVoucher(), buildEvidence({ acceptanceReport: false }), null, '2021-11-01T10:00:00+08:00');
    expect(result.decision).toBe('approved');
    expect(redeem(program2020, buildVoucher(), buildEvidence({ acceptanceReport: false }), null, '2020-11-01T10:00:00+08:00').decision).toBe('rejected');
  });

  it('allocates with the same engine', () => {
    const result = allocate(program2021, [buildAllocationApplication({ submittedAt: '2021-04-01T10:00:00+08:00' })]);
    expect(result.program).toBe(2021);
    expect(result.applications[0]!.status).toBe('admitted');
  });
});
