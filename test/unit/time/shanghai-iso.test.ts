import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHANGHAI_OFFSET_MS, toShanghaiIso } from '../../../src/time/shanghai.js';

/** The definition: UTC's ISO string of the instant moved by +08:00, relabelled. */
function viaDate(ms: number): string {
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString().replace('Z', '+08:00');
}

const YEAR_10000_MS = Date.UTC(10000, 0, 1);

describe('toShanghaiIso', () => {
  it('writes the Shanghai wall time with its offset, across day, month, leap-day and year ends', () => {
    expect(toShanghaiIso(Date.UTC(2020, 9, 9, 0, 0, 0, 0))).toBe('2020-10-09T08:00:00.000+08:00');
    expect(toShanghaiIso(Date.UTC(2020, 1, 28, 16, 0, 0, 7))).toBe('2020-02-29T00:00:00.007+08:00');
    expect(toShanghaiIso(Date.UTC(2020, 11, 31, 15, 59, 59, 999))).toBe('2020-12-31T23:59:59.999+08:00');
    expect(toShanghaiIso(Date.UTC(2020, 11, 31, 16, 0, 0, 0))).toBe('2021-01-01T00:00:00.000+08:00');
    expect(toShanghaiIso(Date.UTC(2100, 1, 28, 16, 0, 0, 50))).toBe('2100-03-01T00:00:00.050+08:00');
  });

  it('writes what Date#toISOString writes for any instant, inside and outside the arithmetic range', () => {
    const edges = [-SHANGHAI_OFFSET_MS, -SHANGHAI_OFFSET_MS - 1, YEAR_10000_MS - SHANGHAI_OFFSET_MS - 1, YEAR_10000_MS - SHANGHAI_OFFSET_MS, 0.5, -0.5, 1e15];
    for (const ms of edges) expect(toShanghaiIso(ms)).toBe(viaDate(ms));
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -SHANGHAI_OFFSET_MS, max: YEAR_10000_MS }), fc.integer({ min: -8.64e15 + SHANGHAI_OFFSET_MS, max: 8.64e15 - SHANGHAI_OFFSET_MS }), fc.double({ min: -1e13, max: 1e13, noNaN: true })), (ms) => {
        expect(toShanghaiIso(ms)).toBe(viaDate(ms));
      }),
      { numRuns: 20_000, seed: 20201009 },
    );
  });

  it('refuses an instant that is not a time, as Date does', () => {
    expect(() => toShanghaiIso(Number.NaN)).toThrow(RangeError);
    expect(() => toShanghaiIso(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
