import type { CatalogItem, City, Program } from './program-schema.js';
import type {
  ApplicationInput,
  ApplicationResult,
  Decision,
  EnterpriseInput,
  EnterpriseResult,
  Evaluation,
  PriorVoucher,
} from './schemas.js';
import { catalogIndex, getCatalogItem, resolveCity } from './lookup.js';
import { CLAUSES, reason, type Reason, type ReasonCode } from './reasons.js';
import { explain, param, recordParam, type Explanation, type ExplanationParameter } from './explain.js';
import { checkCondition, checkRepeats, type Ledger } from './item-checks.js';
import { applyRate, bpToPercent, ceilDiv, formatYuan } from './money.js';
import { parseInstant, withinWindow } from './time.js';

/**
 * evaluate(): one enterprise's voucher applications against a program year (SPEC rules 1–6, 8,
 * 9). Pure: the result depends only on the arguments, inputs are never mutated.
 *
 * Applications are decided in appliedAt order (ties: request index) because the enterprise cap
 * is "summed over its vouchers in order of application time" (附件 说明3, SPEC rule 4) and a
 * repeat is judged against what was granted *before*; results come back in request order.
 */

interface RateChoice {
  basisPoints: number;
  code: ReasonCode;
  clause: string;
  parameters: ExplanationParameter[];
}

export interface EnterpriseAssessment {
  result: EnterpriseResult;
  city: City | null;
  rate: RateChoice | null;
  node: Explanation;
}

const REGION_RATE_CODE = {
  'pearl-river-delta': 'RATE_PRD',
  'east-west-north': 'RATE_EAST_WEST_NORTH',
} as const satisfies Record<City['region'], ReasonCode>;

/** Eligibility (37号 §二) and rate (37号 §四) of the enterprise. */
export function assessEnterprise(program: Program, enterprise: EnterpriseInput): EnterpriseAssessment {
  const clusterPilot = enterprise.clusterPilot ?? false;
  const city = resolveCity(program, enterprise.city);
  const reasons: Reason[] = [];
  if (!city) {
    reasons.push(
      reason(
        'CITY_UNKNOWN',
        CLAUSES.scope,
        `city "${enterprise.city}" is not a prefecture-level city of program ${program.year} (name, name with 市, or GB/T 2260 code)`,
      ),
    );
  } else if (!city.eligible) {
    // 37号 §二 "（深圳市除外）"
    reasons.push(reason('CITY_EXCLUDED', city.citation, `${city.name} (${city.code}) is excluded: ${city.ineligibleReason ?? ''}`));
  }
  const eligible = city !== null && city.eligible;
  const rate = city ? chooseRate(program, city, clusterPilot) : null;
  const result: EnterpriseResult = {
    eligible,
    city: city ? { name: city.name, code: city.code } : null,
    region: city ? city.region : null,
    clusterPilot,
    ratePercent: eligible && rate ? bpToPercent(rate.basisPoints) : null,
    rateBasisPoints: eligible && rate ? rate.basisPoints : null,
    reasons,
  };
  const node = explain(
    'enterprise-eligibility',
    city ? city.citation : CLAUSES.scope,
    eligible
      ? `${city?.name} is in the program's scope`
      : city
        ? `${city.name} is excluded from the program`
        : `city "${enterprise.city}" is unknown`,
    {
      inputs: { city: enterprise.city, clusterPilot },
      parameters: city ? [recordParam('city', { code: city.code, name: city.name, region: city.region, eligible: city.eligible }, city.citation)] : [],
      value: eligible,
    },
  );
  return { result, city, rate, node };
}

/**
 * 37号 §四: 珠三角 70%, 粤东西北 and cluster pilots 80%. A pilot gets the higher of its region's
 * rate and the pilot rate, so being a pilot never lowers the rate (equal in 2020 outside the PRD).
 */
function chooseRate(program: Program, city: City, clusterPilot: boolean): RateChoice {
  const regionRate = program.rates.byRegion[city.region];
  const pilotRate = program.rates.clusterPilot;
  if (clusterPilot && pilotRate.value >= regionRate.value) {
    return {
      basisPoints: pilotRate.value,
      code: 'RATE_CLUSTER_PILOT',
      clause: pilotRate.citation,
      parameters: [param('rates.clusterPilot', pilotRate), param(`rates.byRegion.${city.region}`, regionRate)],
    };
  }
  return {
    basisPoints: regionRate.value,
    code: REGION_RATE_CODE[city.region],
    clause: regionRate.citation,
    parameters: [param(`rates.byRegion.${city.region}`, regionRate)],
  };
}

export function evaluate(
  program: Program,
  enterprise: EnterpriseInput,
  applications: readonly ApplicationInput[],
): Evaluation {
  const assessment = assessEnterprise(program, enterprise);
  const catalog = catalogIndex(program);
  const { blocking: priors, sameYearFen: priorSameYearFen, issues: priorIssues } = readPriors(program, enterprise.priorVouchers);

  const entries = applications.map((application, index) => ({
    application,
    index,
    at: parseInstant(application.appliedAt),
  }));
  // Application-time order; unreadable times last (they are rejected and consume nothing).
  const ordered = [...entries].sort((a, b) => {
    if (a.at !== b.at) {
      if (a.at === null) return 1;
      if (b.at === null) return -1;
      return a.at - b.at;
    }
    return a.index - b.index;
  });

  const ledger: Ledger = { grantedFen: priorSameYearFen, granted: [] };

  const results = new Array<ApplicationResult>(applications.length);
  for (const entry of ordered) {
    results[entry.index] = evaluateOne(program, assessment, catalog.get(entry.application.catalogId), priors, ledger, entry.application, entry.at, priorIssues);
  }
  return {
    program: program.year,
    enterprise: assessment.result,
    applications: results,
    totalVoucherFen: results.reduce((sum, result) => sum + result.voucherFen, 0),
  };
}

/**
 * Prior vouchers (附件 说明3, 说明4), validated as the engine's own input: each needs a known
 * catalog item, a year, its amount in fen and whether it was paid. Same-year vouchers count
 * against the enterprise cap whether paid or not (说明3 caps what is granted); a prior blocks
 * a repeat only when it was paid ("曾领取服务券并获得相关财政补贴") and is from this or an
 * earlier cycle — a later cycle cannot exclude an earlier one.
 */
function readPriors(program: Program, input: unknown): { blocking: PriorVoucher[]; sameYearFen: number; issues: Reason[] } {
  const clause = '附件 说明3; 附件 说明4';
  const issues: Reason[] = [];
  const blocking: PriorVoucher[] = [];
  let sameYearFen = 0;
  if (input !== undefined && !Array.isArray(input)) {
    return { blocking, sameYearFen, issues: [reason('PRIOR_VOUCHER_INVALID', clause, 'priorVouchers must be a list')] };
  }
  for (const [i, prior] of ((input ?? []) as unknown[]).entries()) {
    const p = (typeof prior === 'object' && prior !== null ? prior : {}) as Record<string, unknown>;
    const problems: string[] = [];
    if (!Number.isSafeInteger(p.catalogId) || !getCatalogItem(program, p.catalogId as number)) problems.push(`catalog item ${String(p.catalogId)} is not in the catalog`);
    if (!Number.isSafeInteger(p.year)) problems.push('year is required');
    if (!Number.isSafeInteger(p.voucherFen) || (p.voucherFen as number) < 0) problems.push(`voucherFen ${String(p.voucherFen)} must be a non-negative integer fen`);
    if (typeof p.paid !== 'boolean') problems.push('paid (true/false) is required');
    if (problems.length > 0) {
      issues.push(reason('PRIOR_VOUCHER_INVALID', clause, `prior voucher ${i}: ${problems.join('; ')}`));
      continue;
    }
    const valid = p as unknown as PriorVoucher;
    if (valid.year === program.year) sameYearFen += valid.voucherFen;
    if (valid.paid && valid.year <= program.year) blocking.push(valid);
  }
  return { blocking, sameYearFen, issues };
}

function evaluateOne(
  program: Program,
  assessment: EnterpriseAssessment,
  item: CatalogItem | undefined,
  priors: readonly PriorVoucher[],
  ledger: Ledger,
  application: ApplicationInput,
  appliedAtMs: number | null,
  priorIssues: readonly Reason[],
): ApplicationResult {
  // An unreadable prior voucher makes both caps and repeats unknowable: nothing is granted on it.
  const reasons: Reason[] = [...priorIssues];
  const children: Explanation[] = [assessment.node];
  const clusterPilot = assessment.result.clusterPilot;

  if (!assessment.result.eligible) {
    const cause = assessment.result.reasons[0];
    reasons.push(
      reason('ENTERPRISE_INELIGIBLE', cause?.clause ?? CLAUSES.scope, `the enterprise is not eligible: ${cause?.message ?? ''}`),
    );
  }

  // 附件: the catalog defines what can be applied for.
  children.push(
    explain('catalog-item', item ? item.citation : CLAUSES.catalog, item ? `${item.id} ${item.name.zh} (${item.name.en})` : 'not in the catalog', {
      inputs: { catalogId: application.catalogId },
      value: item ? item.name.zh : null,
    }),
  );
  if (!item) {
    reasons.push(
      reason('UNKNOWN_CATALOG_ITEM', CLAUSES.catalog, `unknown catalog item ${application.catalogId} in program ${program.year}`),
    );
  }

  // 37号 §一(一): the application window, both ends inclusive, +08:00.
  const window = program.windows.application;
  if (appliedAtMs === null) {
    reasons.push(reason('INVALID_TIMESTAMP', CLAUSES.timestamps, `appliedAt "${application.appliedAt}" is not an ISO-8601 instant with offset`));
  } else {
    const inside = withinWindow(appliedAtMs, window.value);
    children.push(
      explain('application-window', window.citation, inside ? 'applied within the window' : 'applied outside the window', {
        inputs: { appliedAt: application.appliedAt },
        parameters: [param('windows.application', window)],
        value: inside,
      }),
    );
    if (!inside) {
      reasons.push(
        reason(
          'OUTSIDE_APPLICATION_WINDOW',
          window.citation,
          `appliedAt ${application.appliedAt} is outside the application window ${window.value.from} – ${window.value.to} (inclusive)`,
        ),
      );
    }
  }

  if (item) {
    for (const condition of item.conditions) {
      const check = checkCondition(condition, application, clusterPilot);
      children.push(check.node);
      if (check.failure) reasons.push(check.failure);
    }
    const repeat = checkRepeats(program, item, priors, ledger);
    children.push(...repeat.nodes);
    reasons.push(...repeat.failures);
  }

  const rejectedSoFar = reasons.some((r) => r.effect === 'reject');
  if (rejectedSoFar || !item || !assessment.rate) {
    return finish(program, item, application, reasons, children, 'rejected', 0);
  }

  return decideAmount(program, item, assessment.rate, ledger, application, reasons, children);
}

/** Amount (37号 §四, SPEC rule 3), item cap (附件 奖补上限), enterprise cap (附件 说明3). */
function decideAmount(
  program: Program,
  item: CatalogItem,
  rate: RateChoice,
  ledger: Ledger,
  application: ApplicationInput,
  reasons: Reason[],
  children: Explanation[],
): ApplicationResult {
  const contract = application.contractAmountFen;
  const rounding = program.interpretations.rounding;
  if (!Number.isSafeInteger(contract) || contract <= 0) {
    reasons.push(reason('ZERO_VOUCHER', CLAUSES.amount, `contract amount ${contract} is not a positive integer fen`));
    return finish(program, item, application, reasons, children, 'rejected', 0);
  }
  const computed = applyRate(contract, rate.basisPoints, rounding.value);
  reasons.push(
    reason(rate.code, rate.clause, `rate ${bpToPercent(rate.basisPoints)}% of contract ${formatYuan(contract)} = ${formatYuan(computed)} (rounded ${rounding.value} to the fen)`),
  );
  children.push(
    explain('rate', rate.clause, `${contract} × ${rate.basisPoints} / 10000, rounded ${rounding.value}`, {
      inputs: { contractAmountFen: contract },
      parameters: [...rate.parameters, param('interpretations.rounding', rounding)],
      value: computed,
    }),
  );

  const cap = item.capFen;
  const capped = Math.min(computed, cap.value);
  children.push(
    explain('item-cap', cap.citation, `min(${computed}, ${cap.value})`, {
      inputs: { computedFen: computed },
      parameters: [param(`catalog.${item.id}.capFen`, cap)],
      value: capped,
    }),
  );
  if (capped < computed) {
    reasons.push(reason('ITEM_CAP_APPLIED', cap.citation, `capped at the item's 奖补上限 ${formatYuan(cap.value)}`));
  }
  if (capped === 0) {
    reasons.push(reason('ZERO_VOUCHER', CLAUSES.amount, `the computed voucher is 0 fen`));
    return finish(program, item, application, reasons, children, 'rejected', 0);
  }

  const enterpriseCap = program.enterpriseCapFen;
  const overflow = program.interpretations.enterpriseCapOverflow;
  const headroom = Math.max(0, enterpriseCap.value - ledger.grantedFen);
  let voucher = capped;
  let decision: Decision = 'approved';
  if (headroom === 0) {
    reasons.push(
      reason('ENTERPRISE_CAP_EXHAUSTED', enterpriseCap.citation, `the enterprise cap ${formatYuan(enterpriseCap.value)} is already used up by earlier vouchers`),
    );
    voucher = 0;
    decision = 'rejected';
  } else if (capped > headroom) {
    if (overflow.value === 'reduce-to-headroom') {
      reasons.push(
        reason('ENTERPRISE_CAP_REDUCED', enterpriseCap.citation, `reduced from ${formatYuan(capped)} to the remaining enterprise headroom ${formatYuan(headroom)}`),
      );
      voucher = headroom;
      decision = 'reduced';
    } else {
      reasons.push(
        reason('ENTERPRISE_CAP_EXCEEDED', enterpriseCap.citation, `${formatYuan(capped)} exceeds the remaining enterprise headroom ${formatYuan(headroom)}`),
      );
      voucher = 0;
      decision = 'rejected';
    }
  }
  children.push(
    explain('enterprise-cap', enterpriseCap.citation, `headroom ${enterpriseCap.value} − ${ledger.grantedFen} = ${headroom}`, {
      inputs: { cappedFen: capped, grantedBeforeFen: ledger.grantedFen },
      parameters: [param('enterpriseCapFen', enterpriseCap), param('interpretations.enterpriseCapOverflow', overflow)],
      value: voucher,
    }),
  );
  if (voucher > 0) {
    ledger.grantedFen += voucher;
    ledger.granted.push({ catalogId: item.id, appliedAt: application.appliedAt });
  }
  return finish(program, item, application, reasons, children, decision, voucher);
}

function finish(
  program: Program,
  item: CatalogItem | undefined,
  application: ApplicationInput,
  reasons: Reason[],
  children: Explanation[],
  decision: Decision,
  voucherFen: number,
): ApplicationResult {
  // 附件 说明2: a number for per-device items (0 when nothing is granted), null otherwise.
  const perDevice = item?.perDeviceFen ?? null;
  const devices = perDevice ? ceilDiv(voucherFen, perDevice.value) : null;
  if (perDevice && devices !== null && voucherFen > 0) {
    reasons.push(
      reason('REQUIRED_DEVICES', CLAUSES.deviceThreshold, `at redemption at least ${devices} devices must be connected (${formatYuan(voucherFen)} ÷ ${formatYuan(perDevice.value)} per device, rounded up)`),
    );
    children.push(
      explain('required-devices', CLAUSES.deviceThreshold, `ceil(${voucherFen} / ${perDevice.value})`, {
        inputs: { voucherFen },
        parameters: [param(`catalog.${item?.id}.perDeviceFen`, perDevice)],
        value: devices,
      }),
    );
  }
  // The clauses that produced the decision: every reason's clause, in order, once each.
  const clause = [...new Set(reasons.map((r) => r.clause))].join('; ');
  return {
    catalogId: application.catalogId,
    decision,
    voucherFen,
    requiredDevices: devices,
    reasons,
    explanation: explain('voucher', clause || CLAUSES.amount, `${decision}: ${formatYuan(voucherFen)} for catalog item ${application.catalogId} (program ${program.year})`, {
      inputs: {
        catalogId: application.catalogId,
        contractAmountFen: application.contractAmountFen,
        appliedAt: application.appliedAt,
      },
      value: voucherFen,
      children,
    }),
  };
}
