import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  allocate,
  applyRate,
  atLeastPercent,
  ceilDiv,
  formatYuan,
  evaluate,
  getCatalogItem,
  getProgram,
  type AllocationApplication,
  type ApplicationInput,
  type EnterpriseInput,
} from '../../../src/rules/index.js';
import { toShanghaiIso } from '../../../src/time/shanghai.js';
import { deepFreeze } from './load-cases.js';

const program = getProgram(2020)!;
const APPLY_FROM = Date.parse('2020-05-25T10:00:00+08:00');
const APPLY_TO = Date.parse('2020-09-30T17:00:00+08:00');
const DAY = 86_400_000;
const cityNames = program.cities.map((c) => c.shortName);

const instantArb = fc
  .integer({ min: APPLY_FROM - 5 * DAY, max: APPLY_TO + 5 * DAY })
  .chain((ms) => fc.constantFrom(toShanghaiIso(ms), new Date(ms).toISOString()));

const applicationArb: fc.Arbitrary<ApplicationInput> = fc.record({
  catalogId: fc.integer({ min: 1, max: 28 }),
  contractAmountFen: fc.oneof(fc.integer({ min: 1, max: 50_000_000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
  appliedAt: instantArb,
  serviceProviders: fc.integer({ min: 0, max: 3 }),
  bigDataModels: fc.integer({ min: 0, max: 2 }),
  functionModules: fc.integer({ min: 3, max: 7 }),
});

const enterpriseArb: fc.Arbitrary<EnterpriseInput> = fc.record({
  city: fc.constantFrom(...cityNames),
  clusterPilot: fc.boolean(),
  priorVouchers: fc.array(fc.record({ catalogId: fc.integer({ min: 1, max: 27 }), year: fc.constantFrom(2018, 2019), voucherFen: fc.integer({ min: 0, max: 30_000_000 }), paid: fc.boolean() }), { maxLength: 3 }),
});

function rateFor(enterprise: EnterpriseInput): number {
  const city = program.cities.find((c) => c.shortName === enterprise.city)!;
  const region = program.rates.byRegion[city.region].value;
  return enterprise.clusterPilot ? Math.max(region, program.rates.clusterPilot.value) : region;
}

describe('evaluate — properties', () => {
  it('never exceeds the item cap, floor(rate × contract), or the enterprise headroom; total ≤ 30万', () => {
    fc.assert(
      fc.property(enterpriseArb, fc.array(applicationArb, { minLength: 1, maxLength: 10 }), (enterprise, applications) => {
        const result = evaluate(program, enterprise, applications);
        const rate = rateFor(enterprise);
        expect(result.totalVoucherFen).toBeLessThanOrEqual(program.enterpriseCapFen.value);
        // Headroom in application-time order (ties by index), as 附件 说明3 orders it.
        const order = applications.map((a, i) => ({ at: Date.parse(a.appliedAt), i })).sort((x, y) => x.at - y.at || x.i - y.i);
        let granted = 0;
        for (const { i } of order) {
          const application = applications[i]!;
          const outcome = result.applications[i]!;
          const item = getCatalogItem(program, application.catalogId);
          expect(outcome.voucherFen).toBeLessThanOrEqual(program.enterpriseCapFen.value - granted);
          if (item) {
            expect(outcome.voucherFen).toBeLessThanOrEqual(item.capFen.value);
            expect(outcome.voucherFen).toBeLessThanOrEqual(applyRate(application.contractAmountFen, rate));
            expect(outcome.requiredDevices).toBe(item.perDeviceFen ? ceilDiv(outcome.voucherFen, item.perDeviceFen.value) : null);
          }
          expect(outcome.decision === 'rejected').toBe(outcome.voucherFen === 0);
          if (outcome.decision === 'reduced') expect(outcome.reasons.map((r) => r.code)).toContain('ENTERPRISE_CAP_REDUCED');
          granted += outcome.voucherFen;
        }
        expect(granted).toBe(result.totalVoucherFen);
      }),
      { numRuns: 300 },
    );
  });

  it('depends on appliedAt, not on request order (distinct appliedAt)', () => {
    const distinctApps = fc
      .uniqueArray(fc.integer({ min: APPLY_FROM - DAY, max: APPLY_TO + DAY }), { minLength: 1, maxLength: 8 })
      .chain((times) =>
        fc.tuple(...times.map((ms) => applicationArb.map((a) => ({ ...a, appliedAt: toShanghaiIso(ms) })))),
      );
    fc.assert(
      fc.property(enterpriseArb, distinctApps, fc.infiniteStream(fc.nat()), (enterprise, applications, randomness) => {
        const permutation = applications.map((_, i) => i);
        const stream = randomness[Symbol.iterator]();
        for (let i = permutation.length - 1; i > 0; i--) {
          const j = stream.next().value! % (i + 1);
          [permutation[i], permutation[j]] = [permutation[j]!, permutation[i]!];
        }
        const original = evaluate(program, enterprise, applications);
        const permuted = evaluate(program, enterprise, permutation.map((i) => applications[i]!));
        permutation.forEach((from, to) => expect(permuted.applications[to]).toEqual(original.applications[from]));
        expect(permuted.totalVoucherFen).toBe(original.totalVoucherFen);
      }),
      { numRuns: 200 },
    );
  });

  it('never mutates its inputs', () => {
    fc.assert(
      fc.property(enterpriseArb, fc.array(applicationArb, { minLength: 1, maxLength: 5 }), (enterprise, applications) => {
        const before = JSON.stringify([enterprise, applications]);
        evaluate(program, deepFreeze(enterprise), deepFreeze(applications));
        expect(JSON.stringify([enterprise, applications])).toBe(before);
      }),
      { numRuns: 50 },
    );
  });
});

describe('allocate — properties', () => {
  const allocationArb: fc.Arbitrary<AllocationApplication[]> = fc
    .array(
      fc.record({
        enterpriseCity: fc.constantFrom('佛山', '汕头', '440100', '深圳'),
        clusterPilot: fc.boolean(),
        supplierId: fc.constantFrom('s1', 's2', 's3'),
        supplierKind: fc.constantFrom('platform' as const, 'other' as const),
        voucherFen: fc.integer({ min: 1, max: 3_000_000 }),
        submittedAt: instantArb,
      }),
      { minLength: 1, maxLength: 40 },
    )
    .map((rows) => rows.map((row, i) => ({ ...row, id: `app-${String(i).padStart(3, '0')}` })));
  const quotasArb = fc.record({
    cities: fc.record({ '440600': fc.option(fc.integer({ min: 0, max: 20_000_000 })), '440500': fc.option(fc.integer({ min: 0, max: 20_000_000 })) }),
    suppliers: fc.record({ s1: fc.integer({ min: 0, max: 20_000_000 }), s2: fc.integer({ min: 0, max: 20_000_000 }) }),
  });

  it('never admits more than a city or supplier quota, and waitlists only what did not fit', () => {
    fc.assert(
      fc.property(allocationArb, quotasArb, (applications, quotas) => {
        const result = allocate(program, applications, quotas);
        expect(result.applications).toHaveLength(applications.length);
        const admittedByCity = new Map<string, number>();
        const admittedBySupplier = new Map<string, number>();
        for (const entry of result.applications) {
          if (entry.status === 'admitted') {
            admittedByCity.set(entry.city!.code, (admittedByCity.get(entry.city!.code) ?? 0) + entry.voucherFen);
            admittedBySupplier.set(entry.supplierId, (admittedBySupplier.get(entry.supplierId) ?? 0) + entry.voucherFen);
            if (entry.cityBalanceBeforeFen !== null) expect(entry.cityBalanceAfterFen).toBe(entry.cityBalanceBeforeFen - entry.voucherFen);
            expect(entry.supplierBalanceAfterFen).toBe(entry.supplierBalanceBeforeFen - entry.voucherFen);
          } else if (entry.status === 'waitlisted') {
            const cityShort = entry.cityBalanceBeforeFen !== null && entry.voucherFen > entry.cityBalanceBeforeFen;
            expect(cityShort || entry.voucherFen > entry.supplierBalanceBeforeFen).toBe(true);
            expect(entry.supplierBalanceAfterFen).toBe(entry.supplierBalanceBeforeFen);
          } else {
            // Rejected only for what can never be admitted: Shenzhen (§二) or a time outside the window (§一(一)).
            const outside = entry.reasons.some((r) => r.code === 'OUTSIDE_APPLICATION_WINDOW');
            expect(outside || (entry.city?.code ?? '440300') === '440300').toBe(true);
          }
          expect(entry.supplierBalanceAfterFen).toBeGreaterThanOrEqual(0);
        }
        for (const [code, limit] of Object.entries(quotas.cities)) {
          if (limit !== null) expect(admittedByCity.get(code) ?? 0).toBeLessThanOrEqual(limit);
        }
        for (const [supplierId, limit] of Object.entries(quotas.suppliers)) {
          expect(admittedBySupplier.get(supplierId) ?? 0).toBeLessThanOrEqual(limit);
        }
        // Cluster pilots first, then submission time, then id.
        const keys = result.applications.map((e) => [e.clusterPilot ? 0 : 1, Date.parse(e.submittedAt), e.id] as const);
        for (let i = 1; i < keys.length; i++) {
          const [p0, t0, id0] = keys[i - 1]!;
          const [p1, t1, id1] = keys[i]!;
          expect(p0 < p1 || (p0 === p1 && (t0 < t1 || (t0 === t1 && id0 < id1)))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same result whatever the listing order', () => {
    fc.assert(
      fc.property(allocationArb, quotasArb, (applications, quotas) => {
        const reversed = [...applications].reverse();
        expect(allocate(program, reversed, quotas)).toEqual(allocate(program, applications, quotas));
      }),
      { numRuns: 100 },
    );
  });
});

describe('fen arithmetic — properties', () => {
  it('applyRate is exact floor(amount × bp / 10000) for every safe amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 10_000 }), (amount, bp) => {
        const fen = applyRate(amount, bp);
        expect(BigInt(fen)).toBe((BigInt(amount) * BigInt(bp)) / 10_000n);
        expect(fen).toBeLessThanOrEqual(amount);
        expect(Number.isSafeInteger(fen)).toBe(true);
      }),
    );
  });

  it('ceilDiv is the exact ceiling', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 1_000_000 }), (n, d) => {
        const q = BigInt(ceilDiv(n, d));
        expect(q * BigInt(d) >= BigInt(n)).toBe(true);
        expect((q - 1n) * BigInt(d) < BigInt(n)).toBe(true);
      }),
    );
  });

  it('atLeastPercent matches exact rational comparison', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 100 }), (paid, contract, pct) => {
        expect(atLeastPercent(paid, contract, pct)).toBe(BigInt(paid) * 100n >= BigInt(contract) * BigInt(pct));
      }),
    );
  });

  it('keeps precision where float math would not', () => {
    // 9007199254740991 × 7000 overflows 2^53; float math gives a wrong last digit.
    expect(applyRate(Number.MAX_SAFE_INTEGER, 7000)).toBe(6305039478318693);
    expect(() => applyRate(2 ** 53, 7000)).toThrow(RangeError);
    expect(() => applyRate(1.5, 7000)).toThrow(RangeError);
  });
});

describe('formatYuan', () => {
  it('formats fen as yuan with thousands separators, exactly', () => {
    expect(formatYuan(17_500_000)).toBe('175,000.00元');
    expect(formatYuan(5)).toBe('0.05元');
    expect(formatYuan(Number.MAX_SAFE_INTEGER)).toBe('90,071,992,547,409.91元');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (fen) => {
        const text = formatYuan(fen).replace(/[,元.]/g, '');
        expect(BigInt(text)).toBe(BigInt(fen));
      }),
    );
  });
});
