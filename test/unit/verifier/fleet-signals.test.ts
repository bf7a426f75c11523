import { describe, expect, it } from 'vitest';
import { DEFAULT_ACTIVITY_POLICY, resolvePolicy } from '../../../src/verifier/index.js';
import { driftOverDays, sharedClocks, sharedLives, type DriftSums, type LifecycleEvent } from '../../../src/verifier/fleet-signals.js';

const policy = DEFAULT_ACTIVITY_POLICY;

/** Sums of a linear fit with the given slope (ppm) and residual spread, over one day of heartbeats every 2 minutes for 10 hours. */
function day(driftPpm: number, residualMs = 5, samples = 300): DriftSums {
  const span = 10 * 3600_000;
  const sxx = (samples * span * span) / 12;
  const slope = driftPpm / 1e6;
  return { samples, segments: 1, sxx, sxy: slope * sxx, syy: slope * slope * sxx + residualMs * residualMs * (samples - 2) };
}

/** A week of days at the same rate. */
const week = (driftPpm: number, residualMs = 5, samples = 300): DriftSums[] => Array.from({ length: 7 }, () => day(driftPpm, residualMs, samples));

describe('SHARED_CLOCK evidence', () => {
  it('counts devices whose drift coincides within the error', () => {
    const fleet = new Map<string, DriftSums[]>([
      ...Array.from({ length: 6 }, (_, i) => [`p${i}`, week(13.2)] as const),
      ['h1', week(13.9)],
      ['h2', week(-21)],
    ]);
    const result = sharedClocks(fleet, policy);
    expect(result.get('p0')!.sameClockDevices).toBe(6);
    expect(result.get('p0')!.driftPpm).toBeCloseTo(13.2, 6);
    expect(result.get('h1')!.sameClockDevices).toBe(1); // 0.7 ppm apart: far beyond 4 standard errors
    expect(result.get('h2')!.sameClockDevices).toBe(1);
  });

  it('leaves clocks within the zero band out (NTP keeps honest clocks there) and estimates with too few samples or too much error', () => {
    const fleet = new Map<string, DriftSums[]>([
      ...Array.from({ length: 6 }, (_, i) => [`ntp${i}`, week(0.2)] as const),
      ...Array.from({ length: 6 }, (_, i) => [`few${i}`, [day(8, 5, 90), day(8, 5, 90)] as DriftSums[]] as const),
      ...Array.from({ length: 6 }, (_, i) => [`noisy${i}`, week(-8, 5000)] as const),
    ]);
    expect(sharedClocks(fleet, policy).size).toBe(0);
    // a reviewer's what-if with a narrower zero band sees the NTP-disciplined ones as one clock
    expect(sharedClocks(fleet, resolvePolicy(policy, { sharedClockZeroBandPpm: 0.1 })).get('ntp0')!.sameClockDevices).toBe(6);
  });

  it('takes the day-to-day spread of the slope as the error when the fit claims more precision than the days show', () => {
    // Six clocks whose per-day slopes wander between 1.5 and 8.5 ppm (an SNTP sawtooth not seen as steps):
    // each day's fit is tight, but the days disagree, so none of them is a fingerprint.
    const wandering = (shift: number) => [1.5, 8.5, 3.8, 2.8, 5.3, 3.1, 4.0].map((d) => day(d + shift));
    const fleet = new Map<string, DriftSums[]>(Array.from({ length: 6 }, (_, i) => [`w${i}`, wandering(i * 0.01)] as const));
    const e = driftOverDays(fleet.get('w0')!, 3)!;
    expect(e.stderrPpm).toBeGreaterThan(0.5);
    expect(sharedClocks(fleet, policy).size).toBe(0);
  });
});

describe('ONE_LIFE evidence', () => {
  const T = Date.parse('2020-11-04T10:00:00+08:00');
  const restart = (ids: string[], at: number, spreadMs: number, backAfterMs: number): LifecycleEvent[] =>
    ids.flatMap((deviceId, i) => [
      { deviceId, at: at + Math.round((i * spreadMs) / ids.length), kind: 'disconnect' },
      { deviceId, at: at + backAfterMs + i * 7_000, kind: 'connect' },
    ]);
  const ids = Array.from({ length: 8 }, (_, i) => `d${i}`);

  it('counts moments the devices were dropped together and came back', () => {
    const lives = sharedLives([...restart(ids, T, 3, 5_000), ...restart(ids, T + 86_400_000, 3, 5_000)], policy);
    expect(lives.get('d0')).toEqual({ moments: 2, largestGroup: 8, at: [T, T + 86_400_000] });
  });

  it('ignores drops spread over a keep-alive (a NAT uplink cut) and power-offs that do not come back', () => {
    const spread = restart(ids, T, 60_000, 120_000);
    const offs = ids.map((deviceId) => ({ deviceId, at: T + 86_400_000, kind: 'disconnect' }));
    const lateBack = restart(ids, T + 2 * 86_400_000, 3, 20 * 60_000);
    expect(sharedLives([...spread, ...offs, ...lateBack], policy).size).toBe(0);
  });
});
