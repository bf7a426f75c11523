import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_COUNTERS_BYTES, decodeDayCounters, encodeDayCounters, viewOf, type DayCounters } from '../../../src/telemetry/sqlite/day-counters.js';
import { DAY_MS, SHANGHAI_OFFSET_MS } from '../../../src/time/shanghai.js';

/** Counters as a store can produce them: times inside their Shanghai day, integer sums up to 2^53. */
const countersArb: fc.Arbitrary<DayCounters> = fc
  .record({
    deviceKey: fc.integer({ min: 0, max: 0xffffffff }),
    dayNumber: fc.integer({ min: 10_957, max: 65_535 }), // 2000-01-01 … 2149
    onlineMinutes: fc.integer({ min: 0, max: 1440 }),
    heartbeats: fc.integer({ min: 0, max: 0xffffffff }),
    first: fc.integer({ min: 0, max: DAY_MS - 1 }),
    last: fc.integer({ min: 0, max: DAY_MS - 1 }),
    lastSeq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    skewSamples: fc.integer({ min: 0, max: 0xffffffff }),
    skewAbsSumMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    coincident: fc.integer({ min: 0, max: 0xffffffff }),
  })
  .map(({ first, last, ...c }) => {
    const dayStart = c.dayNumber * DAY_MS - SHANGHAI_OFFSET_MS;
    return { ...c, firstSeen: dayStart + Math.min(first, last), lastSeen: dayStart + Math.max(first, last) };
  });

describe('device-day counter records', () => {
  it('round-trip every field exactly (property)', () => {
    fc.assert(
      fc.property(countersArb, (c) => {
        const bytes = encodeDayCounters(c);
        expect(bytes.byteLength).toBe(DAY_COUNTERS_BYTES);
        expect(decodeDayCounters(viewOf(bytes))).toEqual(c);
      }),
      { seed: 20201009, numRuns: 2000 },
    );
  });

  it('decode at their offset in a concatenation, as the activity query returns them', () => {
    fc.assert(
      fc.property(fc.array(countersArb, { minLength: 1, maxLength: 20 }), (list) => {
        const all = new Uint8Array(list.length * DAY_COUNTERS_BYTES);
        list.forEach((c, i) => all.set(encodeDayCounters(c), i * DAY_COUNTERS_BYTES));
        const view = viewOf(all.subarray(0));
        expect(list.map((_, i) => decodeDayCounters(view, i * DAY_COUNTERS_BYTES))).toEqual(list);
      }),
      { seed: 20201010, numRuns: 300 },
    );
  });
});
