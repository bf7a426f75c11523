import { describe, it, expect } from 'vitest';
import { allocate, getProgram } from '../../../src/rules/index.js';
import { syntheticApplications } from '../../support/applications.js';

const program = getProgram(2020)!;
const cities = program.cities.filter((c) => c.eligible).map((c) => c.code);

describe('allocate at scale', () => {
  it('allocates 100,000 applications, each exactly once, never beyond a quota (timing lives in bench/)', () => {
    const applications = syntheticApplications(cities, 100_000);
    const quotas = { cities: Object.fromEntries(cities.map((code) => [code, 20_000_000_000])) };
    const result = allocate(program, applications, quotas);
    expect(result.applications).toHaveLength(100_000);
    expect(result.totals.admitted + result.totals.waitlisted + result.totals.rejected).toBe(100_000);
    expect(result.totals.admitted).toBeGreaterThan(0);
    expect(result.totals.waitlisted).toBeGreaterThan(0);
    expect(new Set(result.applications.map((a) => a.id)).size).toBe(100_000);
    const admittedByCity = new Map<string, number>();
    for (const a of result.applications) {
      if (a.status === 'admitted') admittedByCity.set(a.city!.code, (admittedByCity.get(a.city!.code) ?? 0) + a.voucherFen);
    }
    for (const used of admittedByCity.values()) expect(used).toBeLessThanOrEqual(20_000_000_000);
  });
});
