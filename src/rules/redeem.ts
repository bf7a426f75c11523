import type { Program } from './program-schema.js';
import type { Redemption, RedemptionEvidence, RedemptionVoucher } from './schemas.js';
import { CLAUSES, reason, type Reason } from './reasons.js';
import { explain, param, type Explanation } from './explain.js';
import { atLeastPercent, formatYuan } from './money.js';
import { getCatalogItem, requiredDevices as computeRequiredDevices } from './lookup.js';
import { parseInstant, shanghaiDayOf, withinWindow } from './time.js';

/**
 * redeem(): may a granted voucher be paid out at `at`? (兑现; 37号 §一(二), 附件 说明2, SPEC
 * rule 10). Every evidence check is a program parameter that a year can switch off. All checks
 * run and every failure is listed, so a reviewer sees everything missing at once.
 *
 * `verifiedDevices` is the verifier's count of active devices (null = not verified). The
 * required count is recomputed from the program (附件 说明2 is authoritative); a different
 * count supplied with the voucher is noted.
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
  const rules = program.redemption;
  const item = getCatalogItem(program, voucher.catalogId);
  const voucherFen = voucher.voucherFen;

  // The API validates shapes; the engine still must not crash on a direct caller's bad numbers.
  const validVoucher = isFen(voucherFen);
  if (!validVoucher) {
    reasons.push(reason('INVALID_VOUCHER_AMOUNT', CLAUSES.amount, `voucherFen ${voucherFen} is not a non-negative integer fen`));
  }
  if (!item) {
    reasons.push(reason('UNKNOWN_CATALOG_ITEM', CLAUSES.catalog, `unknown catalog item ${voucher.catalogId} in program ${program.year}`));
  } else if (voucherFen > item.capFen.value) {
    reasons.push(reason('VOUCHER_ABOVE_ITEM_CAP', item.capFen.citation, `voucher ${formatYuan(voucherFen)} exceeds the item's 奖补上限 ${formatYuan(item.capFen.value)}`));
  }

  // 37号 §一(二): the redemption window, both ends inclusive.
  const window = program.windows.redemption;
  const atMs = parseInstant(at);
  if (atMs === null) {
    reasons.push(reason('INVALID_TIMESTAMP', CLAUSES.timestamps, `at "${at}" is not an ISO-8601 instant with offset`));
  } else {
    const inside = withinWindow(atMs, window.value);
    children.push(
      explain('redemption-window', window.citation, inside ? 'within the redemption window' : 'outside the redemption window', {
        inputs: { at },
        parameters: [param('windows.redemption', window)],
        value: inside,
      }),
    );
    if (!inside) {
      reasons.push(reason('OUTSIDE_REDEMPTION_WINDOW', window.citation, `${at} is outside the redemption window ${window.value.from} – ${window.value.to} (inclusive)`));
    }
  }

  // 附件 说明2: verified active devices ≥ ceil(voucher ÷ per-device subsidy).
  const required = item && validVoucher ? computeRequiredDevices(program, item.id, voucherFen) : (voucher.requiredDevices ?? null);
  if (item && voucher.requiredDevices !== undefined && voucher.requiredDevices !== required) {
    reasons.push(
      reason('REQUIRED_DEVICES_RECOMPUTED', CLAUSES.deviceThreshold, `required devices recomputed as ${required} (the voucher said ${voucher.requiredDevices})`),
    );
  }
  if (required !== null && rules.deviceThreshold.value) {
    const ok = verifiedDevices !== null && verifiedDevices >= required;
    children.push(
      explain('device-threshold', rules.deviceThreshold.citation, `active ${verifiedDevices ?? 'unverified'} ≥ required ${required}`, {
        inputs: { voucherFen, verifiedDevices },
        parameters: [param('redemption.deviceThreshold', rules.deviceThreshold), ...(item?.perDeviceFen ? [param(`catalog.${item.id}.perDeviceFen`, item.perDeviceFen)] : [])],
        value: ok,
      }),
    );
    if (verifiedDevices === null) {
      reasons.push(reason('DEVICES_NOT_VERIFIED', rules.deviceThreshold.citation, `${required} active devices are required but no verified count was given`));
    } else if (!ok) {
      reasons.push(reason('INSUFFICIENT_ACTIVE_DEVICES', rules.deviceThreshold.citation, `${verifiedDevices} active devices < ${required} required`));
    }
  }

  if (rules.invoiceCoversVoucher.value) {
    const ok = evidence.invoiceAmountFen >= voucherFen;
    children.push(check('invoice-covers-voucher', 'invoiceCoversVoucher', rules.invoiceCoversVoucher, { invoiceAmountFen: evidence.invoiceAmountFen, voucherFen }, ok));
    if (!ok) {
      reasons.push(reason('INVOICE_BELOW_VOUCHER', rules.invoiceCoversVoucher.citation, `invoice ${formatYuan(evidence.invoiceAmountFen)} < voucher ${formatYuan(voucherFen)}`));
    }
  }

  if (rules.paymentProofCoversVoucher.value) {
    let proof = evidence.paymentProofAmountFen;
    if (proof === undefined && rules.paymentProofFallsBackToPaid.value) {
      // SPEC 解释: without a separate payment-proof amount, the paid amount stands for it.
      proof = evidence.paidAmountFen;
      reasons.push(reason('PAYMENT_PROOF_FROM_PAID', rules.paymentProofFallsBackToPaid.citation, 'no payment-proof amount given; the paid amount is used'));
    }
    const ok = proof !== undefined && proof >= voucherFen;
    children.push(
      check('payment-proof-covers-voucher', 'paymentProofCoversVoucher', rules.paymentProofCoversVoucher, { paymentProofAmountFen: proof ?? null, voucherFen }, ok, [
        param('redemption.paymentProofFallsBackToPaid', rules.paymentProofFallsBackToPaid),
      ]),
    );
    if (!ok) {
      reasons.push(
        reason('PAYMENT_PROOF_BELOW_VOUCHER', rules.paymentProofCoversVoucher.citation, proof === undefined ? 'no payment proof given' : `payment proof ${formatYuan(proof)} < voucher ${formatYuan(voucherFen)}`),
      );
    }
  }

  if (rules.acceptanceReportRequired.value) {
    const ok = evidence.acceptanceReport === true;
    children.push(check('acceptance-report', 'acceptanceReportRequired', rules.acceptanceReportRequired, { acceptanceReport: evidence.acceptanceReport }, ok));
    if (!ok) reasons.push(reason('ACCEPTANCE_REPORT_MISSING', rules.acceptanceReportRequired.citation, 'an acceptance report (验收报告) is required'));
  }

  const signedAfter = rules.contractSignedAfterDay;
  if (signedAfter.value !== null) {
    if (voucher.contractSignedAt === undefined) {
      reasons.push(reason('CONTRACT_SIGNED_AT_MISSING', signedAfter.citation, 'contract signing date not given; not checked'));
    } else {
      // "signed after 2018-03-20": the Shanghai calendar day of signing must be later than it.
      const day = shanghaiDayOf(voucher.contractSignedAt);
      const ok = day !== null && day > signedAfter.value;
      children.push(check('contract-signed-after', 'contractSignedAfterDay', signedAfter, { contractSignedAt: voucher.contractSignedAt, shanghaiDay: day }, ok));
      if (!ok) {
        reasons.push(reason('CONTRACT_SIGNED_TOO_EARLY', signedAfter.citation, `contract signed ${voucher.contractSignedAt} (Shanghai day ${day ?? '?'}), not after ${signedAfter.value}`));
      }
    }
  }

  const minPaid = rules.minPaidPercentOfContract;
  if (minPaid.value !== null) {
    // Integer math: paid × 100 ≥ contract × percent.
    const ok =
      isFen(evidence.paidAmountFen) &&
      isFen(voucher.contractAmountFen) &&
      atLeastPercent(evidence.paidAmountFen, voucher.contractAmountFen, minPaid.value);
    children.push(check('paid-share-of-contract', 'minPaidPercentOfContract', minPaid, { paidAmountFen: evidence.paidAmountFen, contractAmountFen: voucher.contractAmountFen }, ok));
    if (!ok) {
      reasons.push(
        reason('PAID_BELOW_MIN_SHARE', minPaid.citation, `paid ${formatYuan(evidence.paidAmountFen)} is below ${minPaid.value}% of the contract ${formatYuan(voucher.contractAmountFen)}`),
      );
    }
  }

  const approved = !reasons.some((r) => r.effect === 'reject');
  const decision = approved ? 'approved' : 'rejected';
  const clause = [...new Set(reasons.filter((r) => r.effect === 'reject').map((r) => r.clause))].join('; ');
  return {
    program: program.year,
    catalogId: voucher.catalogId,
    decision,
    voucherFen: validVoucher ? voucherFen : 0,
    payableFen: approved ? voucherFen : 0,
    requiredDevices: required,
    activeDevices: verifiedDevices,
    reasons,
    explanation: explain('redemption', clause || window.citation, `${decision}: pay ${formatYuan(approved ? voucherFen : 0)}`, {
      inputs: { catalogId: voucher.catalogId, voucherFen, at },
      value: approved ? voucherFen : 0,
      children,
    }),
  };
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
