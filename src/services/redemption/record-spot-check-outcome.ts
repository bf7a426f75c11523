import type { Principal, SpotCheck, SpotCheckOutcome } from '../../registry/index.js';
import type { RedemptionDeps } from './deps.js';

/**
 * Records one sampled application's outcome, once (a note is required unless `ok`). A failed
 * check on a settled application marks it for recovery (追回) — recorded and audited; the
 * settlement itself is never reversed.
 */
export async function recordSpotCheckOutcome(
  deps: RedemptionDeps,
  principal: Principal,
  input: { spotCheckId: number; applicationId: number; outcome: SpotCheckOutcome; note?: string | undefined },
): Promise<SpotCheck> {
  return await deps.registry.spotChecks.record(input.spotCheckId, input.applicationId, input.outcome, input.note ?? null, principal.keyId);
}
