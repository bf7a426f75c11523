import { describe, expect, it } from 'vitest';
import { createClockDriftTracker, type ClockDriftTracker, type ClockSegment } from '../../../src/ingest/clock-drift.js';
import { driftOf } from '../../../src/verifier/fleet-signals.js';

const START = Date.parse('2020-11-02T08:00:00+08:00');
const MINUTE = 60_000;

function total(segments: ClockSegment[]) {
  return segments.reduce(
    (t, s) => ({ samples: t.samples + s.samples, segments: t.segments + s.segments, sxx: t.sxx + s.sxx, sxy: t.sxy + s.sxy, syy: t.syy + s.syy }),
    { samples: 0, segments: 0, sxx: 0, sxy: 0, syy: 0 },
  );
}

function closeAndTake(tracker: ClockDriftTracker, now: number): ClockSegment[] {
  tracker.closeIdle(now);
  return tracker.take();
}

/** A deterministic ±5 ms wobble of delivery delay. */
const wobble = (k: number) => ((k * 7919) % 11) - 5;

describe('clock-drift tracker', () => {
  it('recovers a free-running clock’s rate error from ts − receive time', () => {
    const tracker = createClockDriftTracker({ stepMs: 50, gapMs: 15 * MINUTE });
    for (let k = 0; k < 120; k++) {
      const at = START + k * 5 * MINUTE;
      tracker.observe('d1', at, at + 12_000 + 23.5e-6 * (at - START) + wobble(k));
    }
    expect(closeAndTake(tracker, START + 120 * 5 * MINUTE)).toHaveLength(0); // still open: the last heartbeat is recent
    const segments = closeAndTake(tracker, START + 130 * 5 * MINUTE);
    expect(segments).toHaveLength(1);
    const e = driftOf(total(segments))!;
    expect(e.driftPpm).toBeCloseTo(23.5, 0);
    expect(e.stderrPpm).toBeLessThan(0.2);
  });

  it('sees the crystal between SNTP steps: the steps break segments, the slope survives', () => {
    const tracker = createClockDriftTracker({ stepMs: 50, gapMs: 15 * MINUTE });
    let syncedAt = START;
    for (let k = 0; k < 144; k++) {
      const at = START + k * 5 * MINUTE;
      if (at - syncedAt >= 60 * MINUTE) syncedAt = at; // stepped back to UTC every hour
      tracker.observe('d1', at, at - 40e-6 * (at - syncedAt) + wobble(k));
    }
    const segments = closeAndTake(tracker, Number.POSITIVE_INFINITY);
    // a 40 ppm crystal loses 144 ms an hour: every step is above stepMs, so every hour is its own segment
    expect(segments.length).toBeGreaterThanOrEqual(11);
    const e = driftOf(total(segments))!;
    expect(e.driftPpm).toBeCloseTo(-40, 0);
  });

  it('starts a new segment on a new Shanghai day and keeps devices apart', () => {
    const tracker = createClockDriftTracker({ stepMs: 50, gapMs: 15 * MINUTE });
    const midnight = Date.parse('2020-11-03T00:00:00+08:00');
    for (let k = -5; k < 5; k++) {
      tracker.observe('d1', midnight + k * MINUTE, midnight + k * MINUTE);
      tracker.observe('d2', midnight + k * MINUTE + 1, midnight + k * MINUTE + 900);
    }
    const segments = closeAndTake(tracker, Number.POSITIVE_INFINITY);
    expect(segments.map((s) => [s.deviceId, s.samples]).sort()).toEqual([['d1', 5], ['d1', 5], ['d2', 5], ['d2', 5]]);
    expect(new Set(segments.map((s) => s.dayNumber)).size).toBe(2);
  });
});

describe('clock-drift tracker: closing', () => {
  it('closes a segment once its day is over, even while the device keeps sending', () => {
    const tracker = createClockDriftTracker({ stepMs: 50, gapMs: 15 * MINUTE });
    const midnight = Date.parse('2020-11-03T00:00:00+08:00');
    for (let k = 1; k <= 5; k++) tracker.observe('d1', midnight - k * MINUTE, midnight - k * MINUTE + 40);
    expect(closeAndTake(tracker, midnight - 1)).toEqual([]);
    expect(closeAndTake(tracker, midnight).map((s) => s.samples)).toEqual([5]);
    expect(tracker.open()).toBe(0);
  });
});
