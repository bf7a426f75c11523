import type { Contract, Recommendation } from '../../registry/index.js';
import { getProgram, redeem, type RedemptionEvidence } from '../../rules/index.js';
import { toShanghaiIso } from '../../time/shanghai.js';
import { SIGNALS_NEEDING_ACKNOWLEDGEMENT } from '../../verifier/index.js';
import type { RedemptionDeps } from './deps.js';
import { CLAUSE_ADMISSION } from './errors.js';

/**
 * The recommendation attached to an application: the rules engine (evidence, dates, window,
 * payable from the actual contract) and the verifier (active devices at the application time,
 * with reviewers' exclusions and serial assignments applied), plus admission (SPEC rule 11)
 * and the fraud signal kinds a reviewer must acknowledge (rule 14).
 */
export async function recommend(deps: RedemptionDeps, contract: Contract, evidence: RedemptionEvidence, atMs: number): Promise<Recommendation & { explanation: unknown }> {
  const report = (await deps.verification.verify(contract.id, atMs))!;
  const program = getProgram(contract.program)!;
  const rate = contract.evaluation.enterprise?.rateBasisPoints;
  const result = redeem(
    program,
    {
      catalogId: contract.catalogId,
      voucherFen: contract.voucherFen,
      contractAmountFen: contract.contractAmountFen,
      requiredDevices: contract.requiredDevices,
      ...(typeof rate === 'number' ? { rateBasisPoints: rate } : {}),
      ...(contract.contractSignedAt ? { contractSignedAt: contract.contractSignedAt } : {}),
    },
    evidence,
    report.requiredDevices === null ? null : report.activeDevices,
    toShanghaiIso(atMs),
  );
  const admitted = contract.status === 'admitted';
  const reasons = admitted
    ? result.reasons
    : [...result.reasons, { code: 'VOUCHER_NOT_ADMITTED', clause: CLAUSE_ADMISSION, effect: 'reject', message: `allocation status ${contract.status}` }];
  const signalKinds = [
    ...new Set(report.devices.filter((d) => d.counted).flatMap((d) => d.signals.map((s) => s.code)).filter((code) => (SIGNALS_NEEDING_ACKNOWLEDGEMENT as readonly string[]).includes(code))),
  ].sort();
  const approved = admitted && result.decision === 'approved';
  return {
    decision: approved ? 'approved' : 'rejected',
    at: toShanghaiIso(atMs),
    admitted,
    voucherFen: result.voucherFen,
    payableFen: approved ? result.payableFen : 0,
    requiredDevices: result.requiredDevices,
    activeDevices: result.activeDevices,
    reasons,
    checks: [...result.checks, { rule: 'admitted', clause: CLAUSE_ADMISSION, passed: admitted }],
    signalKinds,
    reportDigest: report.digest,
    explanation: result.explanation,
  };
}
