import type { Principal } from '../../api/route.js';
import { notFound } from '../../errors.js';
import type { RedemptionApplication } from '../../registry/index.js';
import type { RedemptionEvidence } from '../../rules/index.js';
import type { RedemptionDeps } from './deps.js';
import { applicationExists, isUniqueViolation, notAdmitted, notSubmitted, reasonRequired, rulesFailed, signalsUnacknowledged } from './errors.js';
import { recommend } from './recommend.js';

export interface DecideApplicationInput {
  applicationId: number;
  decision: 'approved' | 'rejected';
  /** Required to reject; recorded with an approval when given. */
  reason?: string | undefined;
}

/**
 * A reviewer's decision on a submitted application, at the gateway's clock. The recommendation
 * is recomputed first — at the application time, with the reviewers' exclusions and serial
 * assignments made since — and an approval needs: an admitted voucher (SPEC rule 11), every
 * rule and the device count passing, and each fraud signal kind on counted devices
 * acknowledged (rule 14). The database refuses a second approved/settled application for the
 * contract, so of two concurrent approvals exactly one commits.
 */
export async function decideApplication(deps: RedemptionDeps, principal: Principal, input: DecideApplicationInput): Promise<RedemptionApplication> {
  const { registry } = deps;
  const application = await registry.applications.get(input.applicationId);
  if (!application) throw notFound('redemption application', input.applicationId);
  if (application.state !== 'submitted') throw notSubmitted(application);
  const reason = input.reason?.trim() || null;
  if (input.decision === 'rejected' && !reason) throw reasonRequired();

  const contract = (await registry.contracts.get(application.contractId))!;
  const { explanation, ...recommendation } = await recommend(deps, contract, application.evidence as RedemptionEvidence, Date.parse(application.submittedAt));
  if (input.decision === 'approved') {
    if (!recommendation.admitted) throw notAdmitted(contract);
    if (recommendation.decision !== 'approved') throw rulesFailed(recommendation.reasons);
    const acknowledged = new Set(application.acknowledgements.map((a) => a.signal));
    const missing = recommendation.signalKinds.filter((kind) => !acknowledged.has(kind));
    if (missing.length > 0) throw signalsUnacknowledged(missing);
  }

  let decided: RedemptionApplication | undefined;
  try {
    decided = await registry.applications.decide(
      application.id,
      { decision: input.decision, reason, recommendation: { ...recommendation, explanation } as typeof recommendation },
      principal.keyId,
    );
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const payout = await registry.applications.payoutOf(application.contractId);
    if (payout) throw applicationExists(payout);
    throw err;
  }
  // Another decision or a withdrawal got there first.
  if (!decided) throw notSubmitted((await registry.applications.get(application.id))!);
  return decided;
}
