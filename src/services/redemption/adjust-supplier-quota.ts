import type { Principal, QuotaAdjustment } from '../../registry/index.js';
import type { RedemptionDeps } from './deps.js';

/**
 * An admin adjusts a supplier's quota citing recorded spot-check outcomes of that supplier's
 * applications (37号 §三(二) "依据历年服务券抽查情况…"); allocation is re-run, and the adjustment,
 * its reason and its citations are recorded and audited.
 */
export async function adjustSupplierQuota(
  deps: RedemptionDeps,
  principal: Principal,
  input: { supplierId: string; quotaFen: number; reason: string; cite: Array<{ spotCheckId: number; applicationId: number }> },
): Promise<QuotaAdjustment> {
  return await deps.registry.spotChecks.adjustQuota(input.supplierId, { quotaFen: input.quotaFen, reason: input.reason, cite: input.cite }, principal.keyId);
}
