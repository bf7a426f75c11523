import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  countMinutes,
  countMinutesUpTo,
  createMinuteMap,
  isMinuteSet,
  orInto,
  setMinute,
} from '../../../src/activity/index.js';
import { MINUTE_MAP_BYTES } from '../../../src/telemetry/types.js';

describe('minute map', () => {
  it('stores minute m in byte m>>3, bit m&7, least significant bit first', () => {
    const map = createMinuteMap();
    setMinute(map, 0);
    setMinute(map, 9);
    setMinute(map, 1439);
    expect(map).toHaveLength(MINUTE_MAP_BYTES);
    expect(map[0]).toBe(0b0000_0001);
    expect(map[1]).toBe(0b0000_0010);
    expect(map[179]).toBe(0b1000_0000);
    expect(isMinuteSet(map, 9)).toBe(true);
    expect(isMinuteSet(map, 8)).toBe(false);
  });

  it('counts a minute once however often it is set', () => {
    const map = createMinuteMap();
    for (let i = 0; i < 60; i++) setMinute(map, 600);
    expect(countMinutes(map)).toBe(1);
  });

  it('counts a fully online day as 1440 minutes', () => {
    expect(countMinutes(new Uint8Array(MINUTE_MAP_BYTES).fill(0xff))).toBe(1440);
  });

  it('rejects minutes outside the day', () => {
    const map = createMinuteMap();
    expect(() => setMinute(map, 1440)).toThrow(RangeError);
    expect(() => setMinute(map, -1)).toThrow(RangeError);
    expect(() => setMinute(map, 1.5)).toThrow(RangeError);
  });

  it('counts up to and including the minute that contains the verification time', () => {
    const map = createMinuteMap();
    for (const minute of [0, 7, 8, 615, 616, 1439]) setMinute(map, minute);
    expect(countMinutesUpTo(map, -1)).toBe(0);
    expect(countMinutesUpTo(map, 0)).toBe(1);
    expect(countMinutesUpTo(map, 7)).toBe(2);
    expect(countMinutesUpTo(map, 8)).toBe(3);
    expect(countMinutesUpTo(map, 614)).toBe(3);
    expect(countMinutesUpTo(map, 615)).toBe(4);
    expect(countMinutesUpTo(map, 1438)).toBe(5);
    expect(countMinutesUpTo(map, 1439)).toBe(6);
    expect(countMinutesUpTo(map, 5000)).toBe(6);
  });

  it('agrees with a bit-by-bit count for any set of minutes and any cut-off', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1439 }), { maxLength: 300 }),
        fc.integer({ min: -5, max: 1445 }),
        (minutes, lastMinute) => {
          const map = createMinuteMap();
          for (const m of minutes) setMinute(map, m);
          expect(countMinutes(map)).toBe(minutes.length);
          expect(countMinutesUpTo(map, lastMinute)).toBe(minutes.filter((m) => m <= lastMinute).length);
        },
      ),
    );
  });

  it('ORs one map into another without touching the source', () => {
    const target = createMinuteMap();
    const src = createMinuteMap();
    setMinute(target, 1);
    setMinute(src, 1);
    setMinute(src, 700);
    expect(orInto(target, src)).toBe(target);
    expect(countMinutes(target)).toBe(2);
    expect(countMinutes(src)).toBe(2);
    expect(isMinuteSet(target, 700)).toBe(true);
  });
});
