import type { AllocationApplication, ApplicationInput, EnterpriseInput, RedemptionEvidence, RedemptionVoucher } from '../../../src/rules/index.js';

/** Test-data builders with overrides (house style: buildContract({ catalogId: 5 })). */
export const buildEnterprise = (overrides: Partial<EnterpriseInput> = {}): EnterpriseInput => ({
  city: '佛山',
  clusterPilot: false,
  priorVouchers: [],
  ...overrides,
});

export const buildApplication = (overrides: Partial<ApplicationInput> = {}): ApplicationInput => ({
  catalogId: 1,
  contractAmountFen: 1_000_000,
  appliedAt: '2020-06-01T10:00:00+08:00',
  ...overrides,
});

export const buildAllocationApplication = (overrides: Partial<AllocationApplication> = {}): AllocationApplication => ({
  id: 'a',
  enterpriseCity: '佛山',
  clusterPilot: false,
  supplierId: 's1',
  supplierKind: 'other',
  voucherFen: 1_000_000,
  submittedAt: '2020-06-01T10:00:00+08:00',
  ...overrides,
});

export const buildVoucher = (overrides: Partial<RedemptionVoucher> = {}): RedemptionVoucher => ({
  catalogId: 6,
  voucherFen: 1_000_000,
  contractAmountFen: 1_500_000,
  contractSignedAt: '2020-06-01',
  ...overrides,
});

export const buildEvidence = (overrides: Partial<RedemptionEvidence> = {}): RedemptionEvidence => ({
  invoiceAmountFen: 1_500_000,
  invoiceDate: '2020-07-01',
  paidAmountFen: 1_500_000,
  paymentProofAmountFen: 1_500_000,
  paymentDate: '2020-07-02',
  acceptanceReport: true,
  ...overrides,
});

export const REDEEM_AT = '2020-11-01T10:00:00+08:00';
