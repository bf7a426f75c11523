import { AppError, badRequest } from '../../errors.js';
import type { RedemptionApplication } from '../../registry/index.js';

/**
 * The money path's refusals, each with a stable code from the catalogue in src/errors.ts
 * and, where a rule refuses, the reason code and clause it rests on.
 */
export const CLAUSE_ADMISSION = '37号 §一 (审核入库 before 奖补兑现); SPEC 规则11';
export const CLAUSE_ONE_PAYOUT = 'SPEC 规则12';
export const CLAUSE_SIGNALS = '37号 §三(二); SPEC 规则14';

export const notAdmitted = (contract: { id: string; status: string }): AppError =>
  new AppError('GW_ERR_REDEMPTION_NOT_ADMITTED', `contract ${contract.id} is ${contract.status}, not admitted: only admitted vouchers are redeemed`, {
    extensions: { reason: { code: 'VOUCHER_NOT_ADMITTED', clause: CLAUSE_ADMISSION, message: `allocation status ${contract.status}` }, contractStatus: contract.status },
  });

export const applicationExists = (existing: RedemptionApplication): AppError =>
  new AppError(
    'GW_ERR_REDEMPTION_APPLICATION_EXISTS',
    `contract ${existing.contractId} already has ${existing.state === 'submitted' || existing.state === 'approved' ? 'an open' : 'a paid'} application (${existing.id}, ${existing.state}): one payout per voucher`,
    { extensions: { reason: { code: 'ONE_PAYOUT_PER_VOUCHER', clause: CLAUSE_ONE_PAYOUT }, application: existing } },
  );

export const idempotencyKeyReused = (key: string): AppError =>
  new AppError('GW_ERR_REDEMPTION_IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${key} was already used for another contract`);

export const notSubmitted = (application: RedemptionApplication): AppError =>
  new AppError('GW_ERR_REDEMPTION_NOT_SUBMITTED', `application ${application.id} is ${application.state}; only a submitted application can be decided or withdrawn`, {
    extensions: { application },
  });

export const rulesFailed = (reasons: Array<{ code: string; clause: string; message: string; effect?: string }>): AppError =>
  new AppError('GW_ERR_REDEMPTION_RULES_FAILED', 'the rules engine or the device check does not support approval; reject it with a reason instead', {
    extensions: { reasons: reasons.filter((r) => r.effect === 'reject') },
  });

export const signalsUnacknowledged = (signals: string[]): AppError =>
  new AppError('GW_ERR_REDEMPTION_SIGNALS_UNACKNOWLEDGED', `acknowledge each fraud signal kind on counted devices before approving: ${signals.join(', ')}`, {
    extensions: { reason: { code: 'SIGNALS_UNACKNOWLEDGED', clause: CLAUSE_SIGNALS }, signals },
  });

export const signalNotPresent = (signal: string): AppError =>
  badRequest('GW_ERR_REDEMPTION_NOT_A_FRAUD_SIGNAL', `${signal} is not a fraud signal kind that needs acknowledging`, [{ path: 'body.signal', message: 'not a fraud signal kind' }]);

export const reasonRequired = (): AppError => badRequest('GW_ERR_REVIEW_REASON_REQUIRED', 'a reason is required', [{ path: 'body.reason', message: 'required, not blank' }]);

export const nothingToSettle = (budgetFen: number | null): AppError =>
  new AppError('GW_ERR_SETTLEMENT_NOTHING_TO_SETTLE', budgetFen === null ? 'no approved application is waiting for settlement' : `the next approved application does not fit the budget of ${budgetFen} fen`);

/**
 * A violated UNIQUE index (the partial indexes that allow one open application and one payout
 * per contract, SPEC 规则12), as SQLite or PostgreSQL reports it.
 */
export { isUniqueViolation } from '../../db/sql-errors.js';
