import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';

describe('VirtualClock', () => {
  it('stands still until set or advanced, and refuses to go back by advancing', () => {
    const clock = new VirtualClock('2020-10-09T08:00:00+08:00');
    expect(clock.now()).toBe(Date.parse('2020-10-09T00:00:00Z'));
    expect(clock.advance(61_500)).toBe(Date.parse('2020-10-09T00:01:01.500Z'));
    clock.set(0);
    expect(clock.now()).toBe(0);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.set('not a time')).toThrow(RangeError);
  });

  it('is one clock for every instance built on its buffer (a worker thread reads what this one sets)', () => {
    const here = new VirtualClock(1_602_201_600_123);
    const there = new VirtualClock(here.buffer);
    expect(there.now()).toBe(1_602_201_600_123);
    here.set(1_602_201_660_123.5);
    expect(there.now()).toBe(1_602_201_660_123.5);
    there.advance(1);
    expect(here.now()).toBe(1_602_201_660_124.5);
    expect(() => new VirtualClock(new SharedArrayBuffer(4))).toThrow(/8-byte/);
  });
});
