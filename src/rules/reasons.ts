/**
 * Reason codes (stable UPPER_SNAKE strings clients may rely on) and the clause constants for
 * rules that are engine logic rather than program data. Where a rule's parameter lives in the
 * program data, the reason cites the data's own citation instead, so a second program year
 * cites its own document.
 */

export const REASON_CODES = [
  // enterprise
  'CITY_UNKNOWN',
  'CITY_EXCLUDED',
  // evaluate
  'ENTERPRISE_INELIGIBLE',
  'UNKNOWN_CATALOG_ITEM',
  'INVALID_TIMESTAMP',
  'OUTSIDE_APPLICATION_WINDOW',
  'NO_REPEAT_ITEM',
  'EXCLUSION_GROUP',
  'CLUSTER_PILOT_ONLY',
  'TOO_FEW_SERVICE_PROVIDERS',
  'BIG_DATA_MODEL_REQUIRED',
  'TOO_FEW_FUNCTION_MODULES',
  'ZERO_VOUCHER',
  'RATE_PRD',
  'RATE_EAST_WEST_NORTH',
  'RATE_CLUSTER_PILOT',
  'ITEM_CAP_APPLIED',
  'ENTERPRISE_CAP_REDUCED',
  'ENTERPRISE_CAP_EXCEEDED',
  'ENTERPRISE_CAP_EXHAUSTED',
  'REQUIRED_DEVICES',
  // allocate
  'CLUSTER_PILOT_PRIORITY',
  'INVALID_VOUCHER_AMOUNT',
  'CITY_QUOTA_INSUFFICIENT',
  'SUPPLIER_QUOTA_INSUFFICIENT',
  'QUEUE_BLOCKED',
  // redeem
  'OUTSIDE_REDEMPTION_WINDOW',
  'VOUCHER_ABOVE_ITEM_CAP',
  'REQUIRED_DEVICES_RECOMPUTED',
  'DEVICES_NOT_VERIFIED',
  'INSUFFICIENT_ACTIVE_DEVICES',
  'INVOICE_BELOW_VOUCHER',
  'PAYMENT_PROOF_FROM_PAID',
  'PAYMENT_PROOF_BELOW_VOUCHER',
  'ACCEPTANCE_REPORT_MISSING',
  'CONTRACT_SIGNED_AT_MISSING',
  'CONTRACT_SIGNED_TOO_EARLY',
  'PAID_BELOW_MIN_SHARE',
  'INVALID_EVIDENCE',
  'PRIOR_VOUCHER_INVALID',
  'QUOTA_ADMITTED',
  'EVIDENCE_DATE_MISSING',
  'DATES_OUT_OF_ORDER',
  'PAYABLE_FROM_ACTUAL_CONTRACT',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

/** What a reason does to the decision: nothing, cut the voucher, reject it, or waitlist it. */
export const REASON_EFFECTS = ['info', 'reduce', 'reject', 'waitlist'] as const;
export type ReasonEffect = (typeof REASON_EFFECTS)[number];

const EFFECT: Record<ReasonCode, ReasonEffect> = {
  CITY_UNKNOWN: 'reject',
  CITY_EXCLUDED: 'reject',
  ENTERPRISE_INELIGIBLE: 'reject',
  UNKNOWN_CATALOG_ITEM: 'reject',
  INVALID_TIMESTAMP: 'reject',
  OUTSIDE_APPLICATION_WINDOW: 'reject',
  NO_REPEAT_ITEM: 'reject',
  EXCLUSION_GROUP: 'reject',
  CLUSTER_PILOT_ONLY: 'reject',
  TOO_FEW_SERVICE_PROVIDERS: 'reject',
  BIG_DATA_MODEL_REQUIRED: 'reject',
  TOO_FEW_FUNCTION_MODULES: 'reject',
  ZERO_VOUCHER: 'reject',
  RATE_PRD: 'info',
  RATE_EAST_WEST_NORTH: 'info',
  RATE_CLUSTER_PILOT: 'info',
  ITEM_CAP_APPLIED: 'info',
  ENTERPRISE_CAP_REDUCED: 'reduce',
  ENTERPRISE_CAP_EXCEEDED: 'reject',
  ENTERPRISE_CAP_EXHAUSTED: 'reject',
  REQUIRED_DEVICES: 'info',
  CLUSTER_PILOT_PRIORITY: 'info',
  INVALID_VOUCHER_AMOUNT: 'reject',
  CITY_QUOTA_INSUFFICIENT: 'waitlist',
  SUPPLIER_QUOTA_INSUFFICIENT: 'waitlist',
  QUEUE_BLOCKED: 'waitlist',
  OUTSIDE_REDEMPTION_WINDOW: 'reject',
  VOUCHER_ABOVE_ITEM_CAP: 'reject',
  REQUIRED_DEVICES_RECOMPUTED: 'info',
  DEVICES_NOT_VERIFIED: 'reject',
  INSUFFICIENT_ACTIVE_DEVICES: 'reject',
  INVOICE_BELOW_VOUCHER: 'reject',
  PAYMENT_PROOF_FROM_PAID: 'info',
  PAYMENT_PROOF_BELOW_VOUCHER: 'reject',
  ACCEPTANCE_REPORT_MISSING: 'reject',
  CONTRACT_SIGNED_AT_MISSING: 'reject',
  CONTRACT_SIGNED_TOO_EARLY: 'reject',
  PAID_BELOW_MIN_SHARE: 'reject',
  INVALID_EVIDENCE: 'reject',
  PRIOR_VOUCHER_INVALID: 'reject',
  QUOTA_ADMITTED: 'info',
  EVIDENCE_DATE_MISSING: 'reject',
  DATES_OUT_OF_ORDER: 'reject',
  PAYABLE_FROM_ACTUAL_CONTRACT: 'info',
};

/** Clauses of rules that are engine logic, not program data. */
export const CLAUSES = {
  /** 37号 §二 scope: the enterprise must be in one of the program's cities. */
  scope: '37号 §二',
  /** 附件: items are numbered 1..27 in the catalog table. */
  catalog: '37号 §五; 附件',
  /** Times must carry an offset (API.md "times are ISO-8601 with offset"). */
  timestamps: 'API.md; 37号 §一',
  /** Order of admission and settlement (申领时间顺序), cluster pilots first. */
  order: '37号 §一',
  cityQuota: '37号 §三(一)',
  supplierQuota: '37号 §三(二)',
  /** Amount = contract × rate (SPEC rule 3). */
  amount: '37号 §四; SPEC 规则3',
  deviceThreshold: '附件 说明2',
  interpretation: 'SPEC 解释',
  /** Redemption evidence: the 2019 process, which 37号 §五 keeps in principle (SPEC rule 10). */
  redemptionEvidence: 'SPEC 规则10 (2019 兑现流程)',
  /** Payable from the actual contract amount (37号 §四 以项目实际合同额的一定比例), dates in order (SPEC rule 12). */
  payable: '37号 §四; SPEC 规则12',
  dateOrder: 'SPEC 规则12',
} as const;

export interface Reason {
  code: ReasonCode;
  clause: string;
  effect: ReasonEffect;
  message: string;
}

export function reason(code: ReasonCode, clause: string, message: string): Reason {
  return { code, clause, effect: EFFECT[code], message };
}
