import { describe, expect, it } from 'vitest';
import { createFloodControl, type FloodLimits } from '../../../broker/flood-control.js';
import { VirtualClock } from '../../../src/clock.js';
import { createMetrics } from '../../../src/metrics.js';

const LIMITS: FloodLimits = {
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
