/**
 * rules: evaluate() calls per second over a mix of enterprises and applications, and one
 * allocate() of 100,000 applications (the same inputs as test/unit/rules/allocate-scale.test.ts).
 * In-process: the rules engine is pure.
 */
import { allocate, evaluate, getProgram, type ApplicationInput, type EnterpriseInput } from '../src/rules/index.js';
import { syntheticApplications } from '../test/support/applications.js';
import { median } from './harness.js';

export function runRules(options: { evaluateMs: number; allocateRuns: number; applications: number }) {
  const program = getProgram(2020)!;
  const cities = program.cities.filter((c) => c.eligible).map((c) => c.code);

  // 1,000 distinct inputs, cycled: one enterprise with one to three applications each.
  const inputs: { enterprise: EnterpriseInput; applications: ApplicationInput[] }[] = Array.from({ length: 1000 }, (_, i) => ({
    enterprise: { city: cities[i % cities.length]!, clusterPilot: i % 17 === 0, priorVouchers: [] },
    applications: Array.from({ length: 1 + (i % 3) }, (_, k) => ({
      catalogId: 1 + ((i + k * 7) % 27),
      contractAmountFen: 100_000 + ((i * 7919 + k * 104_729) % 50_000_000),
      appliedAt: `2020-06-${String(1 + ((i + k) % 28)).padStart(2, '0')}T10:00:00+08:00`,
    })),
  }));
  for (let i = 0; i < 2000; i++) evaluate(program, inputs[i % 1000]!.enterprise, inputs[i % 1000]!.applications); // warm-up
  let evaluations = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while ((elapsed = performance.now() - t0) < options.evaluateMs) {
    for (let i = 0; i < 100; i++) {
      const input = inputs[(evaluations + i) % 1000]!;
      evaluate(program, input.enterprise, input.applications);
    }
    evaluations += 100;
  }
  const evaluationsPerSecond = evaluations / (elapsed / 1000);

  const applications = syntheticApplications(cities, options.applications);
  const quotas = { cities: Object.fromEntries(cities.map((code) => [code, 20_000_000_000])) };
  const allocateMs: number[] = [];
  for (let run = 0; run < options.allocateRuns; run++) {
    const a0 = performance.now();
    const result = allocate(program, applications, quotas);
    allocateMs.push(performance.now() - a0);
    if (result.applications.length !== options.applications) throw new Error('allocate lost applications');
  }
  return { evaluationsPerSecond, evaluations, allocateMedianMs: median(allocateMs), allocateMs };
}
