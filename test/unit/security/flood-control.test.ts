import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFloodControl, type FloodLimits } from '../../../broker/flood-control.js';
import { VirtualClock } from '../../../src/clock.js';
import { createMetrics } from '../../../src/metrics.js';

const LIMITS: FloodLimits = {
  deviceRatePerMin: 120,
  deviceBurst: 20,
  connectsPerAddress: 5,
  connectWindowMs: 10_000,
  flapConnects: 3,
  flapWindowMs: 60_000,
  banMs: 30_000,
};

function setup(overrides: Partial<FloodLimits> = {}) {
  const clock = new VirtualClock('2020-10-09T08:00:00+08:00');
  const metrics = createMetrics();
  const flood = createFloodControl({ clock, metrics, limits: { ...LIMITS, ...overrides } });
  const bans = async (reason: string) =>
    (await metrics.bans.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  return { clock, flood, bans };
}

describe('per-device heartbeat rate (token bucket)', () => {
  it('lets a burst through, then drops until tokens refill at the configured rate', () => {
    const { clock, flood } = setup();
    const ctx = { deviceId: 'd1' };
    const at = clock.now();
    const first = Array.from({ length: 30 }, () => flood.allowHeartbeat(ctx, at));
    expect(first.filter(Boolean)).toHaveLength(20);
    // 120/min = one token every 500 ms
    expect(flood.allowHeartbeat(ctx, at + 499)).toBe(false);
    expect(flood.allowHeartbeat(ctx, at + 1000)).toBe(true);
    expect(flood.allowHeartbeat(ctx, at + 1000)).toBe(true);
    expect(flood.allowHeartbeat(ctx, at + 1000)).toBe(false);
  });

  it('keeps devices independent and turns off at rate 0', () => {
    const { clock, flood } = setup({ deviceBurst: 1 });
    expect(flood.allowHeartbeat({ deviceId: 'a' }, clock.now())).toBe(true);
    expect(flood.allowHeartbeat({ deviceId: 'a' }, clock.now())).toBe(false);
    expect(flood.allowHeartbeat({ deviceId: 'b' }, clock.now())).toBe(true);
    const off = setup({ deviceRatePerMin: 0 });
    for (let i = 0; i < 1000; i++) expect(off.flood.allowHeartbeat({ deviceId: 'a' }, off.clock.now())).toBe(true);
  });

  it('never admits more than burst + rate × elapsed, whatever the arrival pattern (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 50 }), (gaps, rate, burst) => {
        const { flood } = setup({ deviceRatePerMin: rate, deviceBurst: burst });
        let t = 0;
        let admitted = 0;
        for (const gap of gaps) {
          t += gap;
          if (flood.allowHeartbeat({ deviceId: 'p' }, t)) admitted++;
        }
        const elapsed = t - gaps[0]!;
        expect(admitted).toBeLessThanOrEqual(burst + Math.floor((elapsed * rate) / 60_000) + 1);
      }),
      { seed: 20201009, numRuns: 300 },
    );
  });

  it('refills nothing when the clock steps backwards', () => {
    const { flood } = setup({ deviceBurst: 1 });
    expect(flood.allowHeartbeat({ deviceId: 'a' }, 10_000)).toBe(true);
    expect(flood.allowHeartbeat({ deviceId: 'a' }, 0)).toBe(false);
    expect(flood.allowHeartbeat({ deviceId: 'a' }, 10_000)).toBe(false);
  });
});

describe('per-address connection rate', () => {
  it('bans an address after N connects in M seconds, counts the ban, and lifts it after the ban time', async () => {
    const { clock, flood, bans } = setup();
    for (let i = 0; i < 5; i++) expect(flood.admitAddress('10.0.0.9')).toBe(true);
    expect(flood.admitAddress('10.0.0.9')).toBe(false);
    expect(await bans('connection-rate')).toBe(1);
    expect(flood.admitAddress('10.0.0.8')).toBe(true);
    clock.advance(29_999);
    expect(flood.admitAddress('10.0.0.9')).toBe(false);
    expect(flood.bans().address.has('10.0.0.9')).toBe(true);
    clock.advance(1);
    expect(flood.admitAddress('10.0.0.9')).toBe(true);
    expect(await bans('connection-rate')).toBe(1);
  });

  it('forgets attempts older than the window', () => {
    const { clock, flood } = setup();
    for (let i = 0; i < 50; i++) {
      expect(flood.admitAddress('10.0.0.7')).toBe(true);
      clock.advance(2_001); // 5 per 10 s is the limit; one every 2 s stays under it
    }
  });

  it('stays bounded when attackers spray addresses', () => {
    const { flood } = setup();
    for (let i = 0; i < 50_000; i++) flood.admitAddress(`2001:db8::${i.toString(16)}`);
    // Finishing at all is the point: the sweep is amortised O(1), not a scan per new address.
    expect(flood.bans().address.size).toBe(0);
  });
});

describe('flapping devices', () => {
  it('bans a device id after more than N successful connects in M seconds; only that device', async () => {
    const { clock, flood, bans } = setup();
    for (let i = 0; i < 3; i++) {
      expect(flood.deviceBanned('dev')).toBe(false);
      flood.recordDeviceConnect('dev');
    }
    expect(flood.deviceBanned('dev')).toBe(false);
    flood.recordDeviceConnect('dev');
    expect(flood.deviceBanned('dev')).toBe(true);
    expect(flood.deviceBanned('other')).toBe(false);
    expect(await bans('flapping')).toBe(1);
    clock.advance(30_000);
    expect(flood.deviceBanned('dev')).toBe(false);
  });
});
