import type { AllocationApplication } from '../../src/rules/index.js';

/**
 * `count` allocation applications spread over the given cities, 300 suppliers (20 platforms),
 * cluster pilots and vouchers from 1,000 to 300,000 yuan, with scrambled submission times so
 * the allocation's sort has work to do. Deterministic: the same inputs in the allocate-scale
 * test and in bench/rules.ts.
 */
export function syntheticApplications(cities: readonly string[], count: number): AllocationApplication[] {
  const start0 = Date.parse('2020-05-25T02:00:00Z');
  return Array.from({ length: count }, (_, i) => ({
    id: `app-${i}`,
    enterpriseCity: cities[i % cities.length]!,
    clusterPilot: i % 17 === 0,
    supplierId: `supplier-${i % 300}`,
    supplierKind: i % 300 < 20 ? 'platform' : 'other',
    voucherFen: 100_000 + ((i * 7919) % 29_900_000),
    submittedAt: new Date(start0 + ((i * 104_729) % 10_000_000) * 1000).toISOString(),
  }));
}
