import type { Principal } from '../../api/route.js';
import { notFound } from '../../errors.js';
import { canSeeContract, type RedemptionApplication } from '../../registry/index.js';
import type { RedemptionDeps } from './deps.js';
import { notSubmitted } from './errors.js';

/** The applicant withdraws a submitted application before a decision (SPEC rule 12). */
export async function withdrawApplication(deps: RedemptionDeps, principal: Principal, applicationId: number): Promise<RedemptionApplication> {
  const application = await deps.registry.applications.get(applicationId);
  if (!application || !canSeeContract(principal, application)) throw notFound('redemption application', applicationId);
  if (application.state !== 'submitted') throw notSubmitted(application);
  const withdrawn = await deps.registry.applications.withdraw(applicationId, principal.keyId);
  if (!withdrawn) throw notSubmitted((await deps.registry.applications.get(applicationId))!);
  return withdrawn;
}
