import type { Program } from './program-schema.js';
import type { Redemption, RedemptionEvidence, RedemptionVoucher } from './schemas.js';
import { CLAUSES, reason, type Reason } from './reasons.js';
import { explain, param, type Explanation } from './explain.js';
import { applyRate, atLeastPercent, formatYuan } from './money.js';
import { getCatalogItem, requiredDevices as computeRequiredDevices } from './lookup.js';
import { parseInstant, shanghaiDayOf, withinWindow } from './time.js';

type Check = Redemption['checks'][number];

/**
 * redeem(): may a granted voucher be paid out, and how much, for an application made at `at`?
 * (兑现; 37号 §一(二), §四, 附件 说明2, SPEC rules 10–12). Every evidence check is a program
 * parameter that a year can switch off. All checks run and every failure is listed, so a
 * reviewer sees everything missing at once; every check that ran is listed in `checks`.
 *
 * Payable (37号 §四 "以项目实际合同额的一定比例"): when the contract actually signed and paid —
 * the smaller of `actualContractAmountFen` (default: the amount at application) and the amount
 * paid — is below the contract amount at application, the voucher is recomputed from it at
 * the application's rate, never above the admitted voucher; the required devices follow the
 * payable amount (说明2).
 *
 * Dates (SPEC rule 12), compared as Asia/Shanghai days: signed ≤ invoice, signed ≤ payment
 * (invoice and payment in either order), both ≤ the application day `at`, which must fall in
 * the redemption window. A missing signing, invoice or payment date rejects.
 *
 * Bad input from a direct caller (no evidence, a negative amount, an impossible date) is a
 * reason, never an exception.
 */
export function redeem(
  program: Program,
  voucher: RedemptionVoucher,
  evidence: RedemptionEvidence,
  verifiedDevices: number | null,
  at: string,
): Redemption {
  const reasons: Reason[] = [];
  const children: Explanation[] = [];
  const checks: Check[] = [];
  const rules = program.redemption;
  const window = program.windows.redemption;
  const record = (rule: string, clause: string, passed: boolean) => checks.push({ rule, clause, passed });

  if (!isObject(voucher) || !isObject(evidence)) {
    const missing = !isObject(voucher) ? 'voucher' : 'evidence';
    return {
      program: program.year,
      catalogId: isObject(voucher) && Number.isSafeInteger(voucher.catalogId) ? voucher.catalogId : 0,
      decision: 'rejected',
      voucherFen: 0,
      payableFen: 0,
      requiredDevices: null,
      activeDevices: null,
      reasons: [reason('INVALID_EVIDENCE', CLAUSES.redemptionEvidence, `no ${missing} given`)],
      checks: [],
      explanation: explain('redemption', CLAUSES.redemptionEvidence, `rejected: no ${missing}`, { value: 0 }),
    };
  }

  const item = Number.isSafeInteger(voucher.catalogId) ? getCatalogItem(program, voucher.catalogId) : undefined;
  const voucherFen = voucher.voucherFen;
  const validVoucher = isFen(voucherFen) && isFen(voucher.contractAmountFen);
  if (!validVoucher) {
    reasons.push(reason('INVALID_VOUCHER_AMOUNT', CLAUSES.amount, `voucherFen ${String(voucherFen)} / contractAmountFen ${String(voucher.contractAmountFen)} must be non-negative integer fen`));
  }
  for (const field of ['invoiceAmountFen', 'paidAmountFen', 'paymentProofAmountFen', 'actualContractAmountFen'] as const) {
    const value = evidence[field];
    if (value !== undefined && !isFen(value)) reasons.push(reason('INVALID_EVIDENCE', CLAUSES.redemptionEvidence, `${field} ${String(value)} is not a non-negative integer fen`));
  }
  if (!item) {
    reasons.push(reason('UNKNOWN_CATALOG_ITEM', CLAUSES.catalog, `unknown catalog item ${String(voucher.catalogId)} in program ${program.year}`));
  } else if (validVoucher && voucherFen > item.capFen.value) {
    reasons.push(reason('VOUCHER_ABOVE_ITEM_CAP', item.capFen.citation, `voucher ${formatYuan(voucherFen)} exceeds the item's 奖补上限 ${formatYuan(item.capFen.value)}`));
  }

  // 37号 §四: the payable amount comes from the contract actually signed and paid.
  const paid = isFen(evidence.paidAmountFen) ? evidence.paidAmountFen : 0;
  const actualContract = isFen(evidence.actualContractAmountFen) && validVoucher
    ? Math.min(evidence.actualContractAmountFen, voucher.contractAmountFen)
    : validVoucher ? voucher.contractAmountFen : 0;
  let payableFen = validVoucher ? voucherFen : 0;
  if (validVoucher) {
    const base = Math.min(actualContract, paid);
    if (base < voucher.contractAmountFen) {
      const rate = voucher.rateBasisPoints;
      // Without the rate, scaling the voucher by base ÷ contract never exceeds rate × base (voucher ≤ contract × rate).
      const recomputed = rate !== undefined && Number.isInteger(rate) && rate >= 0 && rate <= 10_000
        ? applyRate(base, rate, program.interpretations.rounding.value)
        : voucher.contractAmountFen === 0 ? 0 : Number((BigInt(voucherFen) * BigInt(base)) / BigInt(voucher.contractAmountFen));
      if (recomputed < payableFen) {
        payableFen = recomputed;
        reasons.push(reason('PAYABLE_FROM_ACTUAL_CONTRACT', CLAUSES.payable, `contract actually signed and paid ${formatYuan(base)} < ${formatYuan(voucher.contractAmountFen)} at application: payable ${formatYuan(payableFen)} (voucher ${formatYuan(voucherFen)})`));
      }
      children.push(explain('payable-from-actual-contract', CLAUSES.payable, `payable ${formatYuan(payableFen)}`, {
        inputs: { contractAmountFen: voucher.contractAmountFen, actualContractAmountFen: actualContract, paidAmountFen: paid, rateBasisPoints: rate ?? null },
        value: payableFen,
      }));
    }
  }

  // 37号 §一(二): the redemption window, both ends inclusive, at the application time.
  const atMs = parseInstant(at);
  const atDay = atMs === null ? null : shanghaiDayOf(at);
  if (atMs === null) {
    reasons.push(reason('INVALID_TIMESTAMP', CLAUSES.timestamps, `at "${String(at)}" is not an ISO-8601 instant with offset`));
  } else {
    const inside = withinWindow(atMs, window.value);
    record('redemption-window', window.citation, inside);
    children.push(explain('redemption-window', window.citation, inside ? 'within the redemption window' : 'outside the redemption window', {
      inputs: { at },
      parameters: [param('windows.redemption', window)],
      value: inside,
    }));
    if (!inside) reasons.push(reason('OUTSIDE_REDEMPTION_WINDOW', window.citation, `${at} is outside the redemption window ${window.value.from} – ${window.value.to} (inclusive)`));
  }

  // 附件 说明2: verified active devices ≥ ceil(payable ÷ per-device subsidy).
  const required = item && validVoucher ? computeRequiredDevices(program, item.id, payableFen) : null;
  if (item && validVoucher && voucher.requiredDevices !== undefined && voucher.requiredDevices !== null && voucher.requiredDevices !== required) {
    reasons.push(reason('REQUIRED_DEVICES_RECOMPUTED', CLAUSES.deviceThreshold, `required devices recomputed as ${required} from the payable amount (the voucher said ${voucher.requiredDevices})`));
  }
  if (required !== null && rules.deviceThreshold.value) {
    const ok = verifiedDevices !== null && verifiedDevices >= required;
    record('device-threshold', rules.deviceThreshold.citation, ok);
    children.push(explain('device-threshold', rules.deviceThreshold.citation, `active ${verifiedDevices ?? 'unverified'} ≥ required ${required}`, {
      inputs: { payableFen, verifiedDevices },
      parameters: [param('redemption.deviceThreshold', rules.deviceThreshold), ...(item?.perDeviceFen ? [param(`catalog.${item.id}.perDeviceFen`, item.perDeviceFen)] : [])],
      value: ok,
    }));
    if (verifiedDevices === null) {
      reasons.push(reason('DEVICES_NOT_VERIFIED', rules.deviceThreshold.citation, `${required} active devices are required but no verified count was given`));
    } else if (!ok) {
      reasons.push(reason('INSUFFICIENT_ACTIVE_DEVICES', rules.deviceThreshold.citation, `${verifiedDevices} active devices < ${required} required`));
    }
  }

  if (rules.invoiceCoversVoucher.value) {
    const ok = isFen(evidence.invoiceAmountFen) && evidence.invoiceAmountFen >= payableFen;
    record('invoice-covers-payable', rules.invoiceCoversVoucher.citation, ok);
    children.push(check('invoice-covers-payable', 'invoiceCoversVoucher', rules.invoiceCoversVoucher, { invoiceAmountFen: evidence.invoiceAmountFen, payableFen }, ok));
    if (!ok) reasons.push(reason('INVOICE_BELOW_VOUCHER', rules.invoiceCoversVoucher.citation, `invoice ${formatYuan(Number(evidence.invoiceAmountFen) || 0)} < payable ${formatYuan(payableFen)}`));
  }

  if (rules.paymentProofCoversVoucher.value) {
    let proof = evidence.paymentProofAmountFen;
    if (proof === undefined && rules.paymentProofFallsBackToPaid.value) {
      proof = evidence.paidAmountFen;
      reasons.push(reason('PAYMENT_PROOF_FROM_PAID', rules.paymentProofFallsBackToPaid.citation, 'no payment-proof amount given; the paid amount is used'));
    }
    const ok = isFen(proof) && proof >= payableFen;
    record('payment-proof-covers-payable', rules.paymentProofCoversVoucher.citation, ok);
    children.push(check('payment-proof-covers-payable', 'paymentProofCoversVoucher', rules.paymentProofCoversVoucher, { paymentProofAmountFen: proof ?? null, payableFen }, ok, [
      param('redemption.paymentProofFallsBackToPaid', rules.paymentProofFallsBackToPaid),
    ]));
    if (!ok) {
      reasons.push(reason('PAYMENT_PROOF_BELOW_VOUCHER', rules.paymentProofCoversVoucher.citation, proof === undefined ? 'no payment proof given' : `payment proof ${formatYuan(Number(proof) || 0)} < payable ${formatYuan(payableFen)}`));
    }
  }

  if (rules.acceptanceReportRequired.value) {
    const ok = evidence.acceptanceReport === true;
    record('acceptance-report', rules.acceptanceReportRequired.citation, ok);
    children.push(check('acceptance-report', 'acceptanceReportRequired', rules.acceptanceReportRequired, { acceptanceReport: evidence.acceptanceReport }, ok));
    if (!ok) reasons.push(reason('ACCEPTANCE_REPORT_MISSING', rules.acceptanceReportRequired.citation, 'an acceptance report (验收报告) is required'));
  }

  // Dates (SPEC rule 12). The signing date is required: without it neither rule 10's cut-off nor the order can be checked.
  const signedAt = evidence.contractSignedAt ?? voucher.contractSignedAt ?? undefined;
  const signedDay = day('contractSignedAt', signedAt, reasons);
  const invoiceDay = day('invoiceDate', evidence.invoiceDate, reasons);
  const paymentDay = day('paymentDate', evidence.paymentDate, reasons);
  const acceptanceDay = evidence.acceptanceReportDate === undefined ? undefined : day('acceptanceReportDate', evidence.acceptanceReportDate, reasons);
  if (signedAt === undefined || signedAt === null) {
    reasons.push(reason('CONTRACT_SIGNED_AT_MISSING', CLAUSES.dateOrder, 'the contract signing date is required'));
  }
  if (evidence.invoiceDate === undefined) reasons.push(reason('EVIDENCE_DATE_MISSING', CLAUSES.dateOrder, 'the invoice date is required'));
  if (evidence.paymentDate === undefined) reasons.push(reason('EVIDENCE_DATE_MISSING', CLAUSES.dateOrder, 'the payment-proof date is required'));
  const order: Array<[string, string | null | undefined, string, string | null | undefined]> = [
    ['signed', signedDay, 'invoice', invoiceDay],
    ['signed', signedDay, 'payment', paymentDay],
    ['signed', signedDay, 'acceptance report', acceptanceDay],
    ['invoice', invoiceDay, 'application', atDay],
    ['payment', paymentDay, 'application', atDay],
    ['acceptance report', acceptanceDay, 'application', atDay],
  ];
  let inOrder = true;
  for (const [firstName, first, thenName, then] of order) {
    if (!first || !then || first <= then) continue;
    inOrder = false;
    reasons.push(reason('DATES_OUT_OF_ORDER', CLAUSES.dateOrder, `${firstName} ${first} is after ${thenName} ${then}`));
  }
  const datesKnown = !!signedDay && !!invoiceDay && !!paymentDay && !!atDay;
  record('dates-in-order', CLAUSES.dateOrder, datesKnown && inOrder);

  const signedAfter = rules.contractSignedAfterDay;
  if (signedAfter.value !== null && signedDay) {
    // "signed after 2018-03-20": the Shanghai calendar day of signing must be later than it.
    const ok = signedDay > signedAfter.value;
    record('contract-signed-after', signedAfter.citation, ok);
    children.push(check('contract-signed-after', 'contractSignedAfterDay', signedAfter, { contractSignedAt: signedAt, shanghaiDay: signedDay }, ok));
    if (!ok) reasons.push(reason('CONTRACT_SIGNED_TOO_EARLY', signedAfter.citation, `contract signed ${String(signedAt)} (Shanghai day ${signedDay}), not after ${signedAfter.value}`));
  }

  const minPaid = rules.minPaidPercentOfContract;
  if (minPaid.value !== null) {
    // Integer math: paid × 100 ≥ contract actually signed × percent.
    const ok = isFen(evidence.paidAmountFen) && validVoucher && atLeastPercent(evidence.paidAmountFen, actualContract, minPaid.value);
    record('paid-share-of-contract', minPaid.citation, ok);
    children.push(check('paid-share-of-contract', 'minPaidPercentOfContract', minPaid, { paidAmountFen: evidence.paidAmountFen, contractAmountFen: actualContract }, ok));
    if (!ok) reasons.push(reason('PAID_BELOW_MIN_SHARE', minPaid.citation, `paid ${formatYuan(paid)} is below ${minPaid.value}% of the contract ${formatYuan(actualContract)}`));
  }

  const approved = !reasons.some((r) => r.effect === 'reject');
  const decision = approved ? 'approved' : 'rejected';
  const payable = approved ? payableFen : 0;
  const clause = [...new Set(reasons.filter((r) => r.effect === 'reject').map((r) => r.clause))].join('; ');
  return {
    program: program.year,
    catalogId: Number.isSafeInteger(voucher.catalogId) ? voucher.catalogId : 0,
    decision,
    voucherFen: validVoucher ? voucherFen : 0,
    payableFen: payable,
    requiredDevices: required,
    activeDevices: verifiedDevices,
    reasons,
    checks,
    explanation: explain('redemption', clause || window.citation, `${decision}: pay ${formatYuan(payable)}`, {
      inputs: { catalogId: voucher.catalogId, voucherFen, at },
      value: payable,
      children,
    }),
  };
}

/** The Shanghai day of a date field; an unreadable one is a reason (INVALID_EVIDENCE). */
function day(field: string, value: unknown, reasons: Reason[]): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  const result = typeof value === 'string' ? shanghaiDayOf(value) : null;
  if (result === null) reasons.push(reason('INVALID_EVIDENCE', CLAUSES.dateOrder, `${field} "${String(value)}" is not a date or an ISO-8601 instant with offset`));
  return result;
}

function check(
  rule: string,
  name: string,
  parameter: { value: unknown; citation: string; effective: { from: string; to: string } },
  inputs: Record<string, unknown>,
  ok: boolean,
  extra: ReturnType<typeof param>[] = [],
): Explanation {
  return explain(rule, parameter.citation, ok ? 'met' : 'not met', {
    inputs,
    parameters: [param(`redemption.${name}`, parameter), ...extra],
    value: ok,
  });
}

const isFen = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isObject = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null;
