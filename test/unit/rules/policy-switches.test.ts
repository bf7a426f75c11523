import { describe, it, expect } from 'vitest';
import { allocate, evaluate, loadProgram, program2020Data, redeem, type Program, type ProgramData } from '../../../src/rules/index.js';
import { buildAllocationApplication, buildApplication, buildEnterprise, buildEvidence, buildVoucher, REDEEM_AT } from './builders.js';

/** The 2020 program with some parameters changed, as a program year would change them. */
function withPolicy(change: (data: ProgramData) => void): Program {
  const data = structuredClone(program2020Data) as ProgramData;
  change(data);
  return loadProgram(data);
}

const failing = buildEvidence({ invoiceAmountFen: 1, paidAmountFen: 1, acceptanceReport: false });
const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);

describe('redemption evidence checks are switchable per program year (SPEC rule 10)', () => {
  it.each([
    ['invoiceCoversVoucher', 'INVOICE_BELOW_VOUCHER'],
    ['paymentProofCoversVoucher', 'PAYMENT_PROOF_BELOW_VOUCHER'],
    ['acceptanceReportRequired', 'ACCEPTANCE_REPORT_MISSING'],
  ] as const)('%s off drops %s', (name, code) => {
    const program = withPolicy((d) => {
      d.redemption[name].value = false;
    });
    expect(codes(redeem(program, buildVoucher(), failing, null, REDEEM_AT))).not.toContain(code);
  });

  it('contractSignedAfterDay null skips the signing-date check', () => {
    const program = withPolicy((d) => {
      d.redemption.contractSignedAfterDay.value = null;
    });
    const result = redeem(program, buildVoucher({ contractSignedAt: '2017-01-01' }), buildEvidence(), null, REDEEM_AT);
    expect(result.decision).toBe('approved');
  });

  it('minPaidPercentOfContract null skips the paid-share check', () => {
    const program = withPolicy((d) => {
      d.redemption.minPaidPercentOfContract.value = null;
    });
    const result = redeem(program, buildVoucher(), buildEvidence({ paidAmountFen: 1, paymentProofAmountFen: 1_000_000 }), null, REDEEM_AT);
    expect(result.decision).toBe('approved');
  });

  it('deviceThreshold off skips the device count', () => {
    const program = withPolicy((d) => {
      d.redemption.deviceThreshold.value = false;
    });
    const voucher = buildVoucher({ catalogId: 5, voucherFen: 1_000_000 });
    expect(redeem(program, voucher, buildEvidence(), 0, REDEEM_AT).decision).toBe('approved');
  });

  it('paymentProofFallsBackToPaid is off by default: a missing payment proof fails', () => {
    const { paymentProofAmountFen: _proof, ...noProof } = buildEvidence();
    expect(codes(redeem(withPolicy(() => {}), buildVoucher(), noProof, null, REDEEM_AT))).toContain('PAYMENT_PROOF_BELOW_VOUCHER');
  });

  it('paymentProofFallsBackToPaid on lets the paid amount stand in for a missing proof', () => {
    const program = withPolicy((d) => {
      d.redemption.paymentProofFallsBackToPaid.value = true;
    });
    const { paymentProofAmountFen: _proof, ...noProof } = buildEvidence();
    const result = redeem(program, buildVoucher(), noProof, null, REDEEM_AT);
    expect(result.decision).toBe('approved');
    expect(codes(result)).toContain('PAYMENT_PROOF_FROM_PAID');
  });

  it('lists every parameter used, with its citation, in the explanation', () => {
    const result = redeem(withPolicy(() => {}), buildVoucher(), buildEvidence(), null, REDEEM_AT);
    const names = result.explanation.children.flatMap((c) => c.parameters.map((p) => p.name));
    expect(names).toEqual(expect.arrayContaining([
      'windows.redemption', 'redemption.invoiceCoversVoucher', 'redemption.paymentProofCoversVoucher',
      'redemption.acceptanceReportRequired', 'redemption.contractSignedAfterDay', 'redemption.minPaidPercentOfContract',
    ]));
    for (const child of result.explanation.children) for (const p of child.parameters) expect(p.citation).not.toBe('');
  });
});

describe('interpretation parameters (SPEC 解释)', () => {
  const threeApps = [
    buildApplication({ catalogId: 26, contractAmountFen: 37_500_000, appliedAt: '2020-06-01T10:00:00+08:00' }),
    buildApplication({ catalogId: 1, contractAmountFen: 100_000, appliedAt: '2020-06-02T10:00:00+08:00' }),
  ];

  it('enterpriseCapOverflow "reject" rejects instead of reducing', () => {
    const program = withPolicy((d) => {
      d.interpretations.enterpriseCapOverflow.value = 'reject';
    });
    const result = evaluate(program, buildEnterprise({ city: '汕头' }), [
      buildApplication({ catalogId: 26, contractAmountFen: 25_000_000, appliedAt: '2020-06-01T10:00:00+08:00' }),
      buildApplication({ catalogId: 13, contractAmountFen: 12_500_002, appliedAt: '2020-06-02T10:00:00+08:00' }),
    ]);
    expect(result.applications[1]).toMatchObject({ decision: 'rejected', voucherFen: 0 });
    expect(codes(result.applications[1]!)).toContain('ENTERPRISE_CAP_EXCEEDED');
  });

  it('rounding "half-up" rounds 700.7 fen to 701', () => {
    const program = withPolicy((d) => {
      d.interpretations.rounding.value = 'half-up';
    });
    expect(evaluate(program, buildEnterprise(), [buildApplication({ contractAmountFen: 1001 })]).applications[0]!.voucherFen).toBe(701);
  });

  it('noRepeatSameItem off lets a non-grouped item repeat', () => {
    const program = withPolicy((d) => {
      d.noRepeatSameItem.value = false;
    });
    const result = evaluate(program, buildEnterprise({ priorVouchers: [{ catalogId: 1, year: 2019, voucherFen: 100_000, paid: true }] }), [buildApplication()]);
    expect(result.applications[0]!.decision).toBe('approved');
    expect(evaluate(withPolicy(() => {}), buildEnterprise({ priorVouchers: [{ catalogId: 1, year: 2019, voucherFen: 100_000, paid: true }] }), [buildApplication()]).applications[0]!.decision).toBe('rejected');
  });

  it('the enterprise cap explanation names its parameters', () => {
    const result = evaluate(withPolicy(() => {}), buildEnterprise({ city: '汕头' }), threeApps);
    const capNode = result.applications[1]!.explanation.children.find((c) => c.rule === 'enterprise-cap');
    expect(capNode).toMatchObject({ clause: '附件 说明3', inputs: { grantedBeforeFen: 30_000_000 }, value: 0 });
    expect(capNode!.parameters.map((p) => p.name)).toEqual(['enterpriseCapFen', 'interpretations.enterpriseCapOverflow']);
  });

  it('clusterPilotsFirst off orders by submission time only', () => {
    const program = withPolicy((d) => {
      d.interpretations.clusterPilotsFirst.value = false;
    });
    const applications = [
      buildAllocationApplication({ id: 'early', submittedAt: '2020-06-01T10:00:00+08:00' }),
      buildAllocationApplication({ id: 'pilot', clusterPilot: true, submittedAt: '2020-06-02T10:00:00+08:00' }),
    ];
    expect(allocate(program, applications).applications.map((e) => e.id)).toEqual(['early', 'pilot']);
    expect(allocate(withPolicy(() => {}), applications).applications.map((e) => e.id)).toEqual(['pilot', 'early']);
  });

  it('strictQueue on keeps later vouchers behind a waitlisted one', () => {
    const program = withPolicy((d) => {
      d.interpretations.strictQueue.value = true;
    });
    const applications = [
      buildAllocationApplication({ id: 'a', voucherFen: 6, submittedAt: '2020-06-01T10:00:00+08:00' }),
      buildAllocationApplication({ id: 'b', voucherFen: 5, submittedAt: '2020-06-02T10:00:00+08:00' }),
      buildAllocationApplication({ id: 'c', voucherFen: 4, submittedAt: '2020-06-03T10:00:00+08:00' }),
    ];
    const result = allocate(program, applications, { cities: { '440600': 10 } });
    expect(result.applications.map((e) => e.status)).toEqual(['admitted', 'waitlisted', 'waitlisted']);
    expect(codes(result.applications[2]!)).toContain('QUEUE_BLOCKED');
  });

  it('city quota defaults come from program data and can be overridden', () => {
    const program = withPolicy((d) => {
      d.quotas.cityFen['440600'] = { value: 5, citation: 'test city quota', effective: d.effective };
    });
    expect(allocate(program, [buildAllocationApplication({ voucherFen: 6 })]).applications[0]).toMatchObject({
      status: 'waitlisted',
      cityBalanceBeforeFen: 5,
    });
    expect(allocate(program, [buildAllocationApplication({ voucherFen: 6 })], { cities: { 佛山: null } }).applications[0]!.status).toBe('admitted');
  });
});
