import type { Principal } from '../../api/route.js';
import { notFound } from '../../errors.js';
import { canSeeContract, type RedemptionApplication } from '../../registry/index.js';
import type { RedemptionEvidence } from '../../rules/index.js';
import { decideApplication } from './decide-application.js';
import type { RedemptionDeps } from './deps.js';
import { recommend } from './recommend.js';
import { submitApplication } from './submit-application.js';

export interface RedeemContractInput {
  contractId: string;
  evidence: RedemptionEvidence;
  /** A what-if time: evaluated, never persisted (the application time is the gateway's clock). */
  whatIfAt?: number | undefined;
  idempotencyKey?: string | undefined;
}

export type RedeemContractResult =
  | { kind: 'what-if'; recommendation: Awaited<ReturnType<typeof recommend>> }
  | { kind: 'application'; application: RedemptionApplication; replayed: boolean; explanation: unknown };

/**
 * `POST /v1/contracts/{id}/redemption` as existing clients use it: for a reviewer, submit and
 * decide at once — approved when the recommendation passes and no fraud signal awaits
 * acknowledgement, rejected (with the failing reasons) when it does not, otherwise left
 * submitted for review. A repeat never creates a second payout (submitApplication's 409, or
 * the same record for the same Idempotency-Key).
 */
export async function redeemContract(deps: RedemptionDeps, principal: Principal, input: RedeemContractInput): Promise<RedeemContractResult> {
  if (input.whatIfAt !== undefined) {
    const contract = await deps.registry.contracts.get(input.contractId);
    if (!contract || !canSeeContract(principal, contract)) throw notFound('contract', input.contractId);
    return { kind: 'what-if', recommendation: await recommend(deps, contract, input.evidence, input.whatIfAt) };
  }
  const submitted = await submitApplication(deps, principal, input);
  let application = submitted.application;
  const recommendation = application.recommendation;
  if (!submitted.replayed && application.state === 'submitted' && principal.role !== 'supplier') {
    if (recommendation.decision === 'rejected') {
      const failing = recommendation.reasons.filter((r) => r.effect === 'reject').map((r) => r.code);
      application = await decideApplication(deps, principal, { applicationId: application.id, decision: 'rejected', reason: `recommendation: ${failing.join(', ')}` });
    } else if (recommendation.signalKinds.length === 0) {
      application = await decideApplication(deps, principal, { applicationId: application.id, decision: 'approved' });
    }
  }
  const { explanation } = application.recommendation as typeof recommendation & { explanation?: unknown };
  return { kind: 'application', application, replayed: submitted.replayed, explanation: explanation ?? null };
}
