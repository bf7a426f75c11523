import { describe, expect, it } from 'vitest';
import { createLockstepTracker } from '../../../src/ingest/lockstep.js';
import { checkSeq, createSeqSession } from '../../../src/ingest/session.js';

describe('checkSeq', () => {
  it('accepts increasing seqs, flags a repeat as duplicate and a step back as replay', () => {
    const s = createSeqSession();
    expect([checkSeq(s, 0), checkSeq(s, 1), checkSeq(s, 5)]).toEqual(['new', 'new', 'new']);
    expect(checkSeq(s, 5)).toBe('duplicate');
    expect(checkSeq(s, 3)).toBe('replay');
    expect(checkSeq(s, 6)).toBe('new');
  });

  it('starts over in a new session (a reconnect)', () => {
    const s = createSeqSession();
    checkSeq(s, 100);
    expect(checkSeq(createSeqSession(), 0)).toBe('new');
  });
});

describe('lock-step tracker', () => {
  it('marks devices that keep arriving together with the same partners from one source', () => {
    const t = createLockstepTracker({ windowMs: 5 });
    const devices = ['a', 'b', 'c', 'd'];
    let coincident = 0;
    let total = 0;
    for (let round = 0; round < 50; round++) {
      devices.forEach((d, i) => {
        total++;
        if (t.arrive('10.0.0.9', d, round * 60_000 + i)) coincident++;
      });
    }
    // every device but the first of the first round coincides from round 2 on
    expect(coincident / total).toBeGreaterThan(0.7);
  });

  it('does not mark independent timers behind one address', () => {
    const t = createLockstepTracker({ windowMs: 5 });
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const arrivals: Array<[string, number]> = [];
    for (let d = 0; d < 200; d++) {
      const phase = rand() * 60_000;
      for (let k = 0; k < 60; k++) arrivals.push([`dev${d}`, Math.round(phase + k * 60_000 + (rand() - 0.5) * 2000)]);
    }
    arrivals.sort((x, y) => x[1] - y[1]);
    let coincident = 0;
    for (const [d, at] of arrivals) if (t.arrive('nat', d, at)) coincident++;
    expect(coincident / arrivals.length).toBeLessThan(0.05);
  });

  it('keeps sources apart', () => {
    const t = createLockstepTracker({ windowMs: 5 });
    for (let r = 0; r < 10; r++) {
      expect(t.arrive('1.1.1.1', 'a', r * 1000)).toBe(false);
      expect(t.arrive('2.2.2.2', 'b', r * 1000)).toBe(false);
    }
  });
});
