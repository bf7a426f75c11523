import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { createHeartbeatRateLimit } from '../../../src/ingest/heartbeat-rate.js';

function setup(overrides: { deviceRatePerMin?: number; deviceBurst?: number } = {}) {
  const clock = new VirtualClock('2020-10-09T08:00:00+08:00');
  const flood = createHeartbeatRateLimit({ ratePerMin: overrides.deviceRatePerMin ?? 120, burst: overrides.deviceBurst ?? 20 });
  return { clock, flood };
}

describe('per-device heartbeat rate (token bucket)', () => {
  it('lets a burst through, then drops until tokens refill at the configured rate', () => {
    const { clock, flood } = setup();
    const at = clock.now();
    const first = Array.from({ length: 30 }, () => flood.allow('d1', at));
    expect(first.filter(Boolean)).toHaveLength(20);
    // 120/min = one token every 500 ms
    expect(flood.allow('d1', at + 499)).toBe(false);
    expect(flood.allow('d1', at + 1000)).toBe(true);
    expect(flood.allow('d1', at + 1000)).toBe(true);
    expect(flood.allow('d1', at + 1000)).toBe(false);
  });

  it('keeps devices independent and turns off at rate 0', () => {
    const { clock, flood } = setup({ deviceBurst: 1 });
    expect(flood.allow('a', clock.now())).toBe(true);
    expect(flood.allow('a', clock.now())).toBe(false);
    expect(flood.allow('b', clock.now())).toBe(true);
    const off = setup({ deviceRatePerMin: 0 });
    for (let i = 0; i < 1000; i++) expect(off.flood.allow('a', off.clock.now())).toBe(true);
  });

  it('never admits more than burst + rate × elapsed, whatever the arrival pattern (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 50 }), (gaps, rate, burst) => {
        const { flood } = setup({ deviceRatePerMin: rate, deviceBurst: burst });
        let t = 0;
        let admitted = 0;
        for (const gap of gaps) {
          t += gap;
          if (flood.allow('p', t)) admitted++;
        }
        const elapsed = t - gaps[0]!;
        expect(admitted).toBeLessThanOrEqual(burst + Math.floor((elapsed * rate) / 60_000) + 1);
      }),
      { seed: 20201009, numRuns: 300 },
    );
  });

  it('refills nothing when the clock steps backwards', () => {
    const { flood } = setup({ deviceBurst: 1 });
    expect(flood.allow('a', 10_000)).toBe(true);
    expect(flood.allow('a', 0)).toBe(false);
    expect(flood.allow('a', 10_000)).toBe(false);
  });
});
