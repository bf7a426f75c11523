import { randomBytes } from 'node:crypto';
import type { Principal } from '../../registry/index.js';
import type { SpotCheck } from '../../registry/index.js';
import type { RedemptionDeps } from './deps.js';

/**
 * A reviewer draws a spot check (抽查, 37号 §三(二)) of approved or settled applications: a
 * count or a percentage, optionally of one supplier. The seed (given, or 128 random bits) and
 * the population are recorded, so the draw can be recomputed (registry `drawSample`).
 */
export async function drawSpotCheck(
  deps: RedemptionDeps,
  principal: Principal,
  input: { count?: number | undefined; percent?: number | undefined; seed?: string | undefined; supplierId?: string | undefined },
): Promise<SpotCheck> {
  const seed = input.seed ?? randomBytes(16).toString('hex');
  const rule = input.count !== undefined ? { count: input.count } : { percent: input.percent! };
  return await deps.registry.spotChecks.draw({ seed, rule, ...(input.supplierId ? { supplierId: input.supplierId } : {}) }, principal.keyId);
}
