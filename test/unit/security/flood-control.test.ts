import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFloodControl, type FloodLimits } from '../../../broker/flood-control.js';
import { VirtualClock } from '../../../src/clock.js';
import { createMetrics } from '../../../src/metrics.js';

const LIMITS: FloodLimits = {
  connectsPerAddress: 5,
  connectWindowMs: 10_000,
  connectBurst: 5,
  authFailuresPerAddress: 4,
  authFailureWindowMs: 60_000,
  authFailedEvidencePerMin: 3,
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

describe('per-address connection rate (token bucket, never a ban)', () => {
  it('admits a burst, then one connection per refill interval, and bans nobody', async () => {
    const { clock, flood, bans } = setup();
    for (let i = 0; i < 5; i++) expect(flood.admitAddress('10.0.0.9')).toBe(true);
    expect(flood.admitAddress('10.0.0.9')).toBe(false);
    expect(flood.admitAddress('10.0.0.8')).toBe(true);
    clock.advance(1_999); // 5 per 10 s: a token every 2 s
    expect(flood.admitAddress('10.0.0.9')).toBe(false);
    clock.advance(1);
    expect(flood.admitAddress('10.0.0.9')).toBe(true);
    expect(flood.admitAddress('10.0.0.9')).toBe(false);
    expect(flood.bans().address.size).toBe(0);
    expect(await bans('auth-failures')).toBe(0);
  });

  it('lets a storm of any size through eventually: admitted = burst + rate × elapsed (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3_000 }), fc.integer({ min: 20, max: 200 }), fc.integer({ min: 20, max: 1_000 }), (devices, rate, burst) => {
        const { clock, flood } = setup({ connectsPerAddress: rate, connectWindowMs: 1_000, connectBurst: burst });
        let connected = 0;
        let seconds = 0;
        while (connected < devices) {
          // every device still outside retries once a second
          for (let i = connected; i < devices; i++) if (flood.admitAddress('nat')) connected++;
          clock.advance(1_000);
          seconds++;
        }
        // One round for the burst, then min(rate, burst) a round (the bucket holds no more than
        // its burst between two polls), plus one for a floating-point refill a hair short.
        expect(seconds).toBeLessThanOrEqual(2 + Math.ceil(Math.max(0, devices - burst) / Math.min(rate, burst)));
      }),
      { seed: 20201009, numRuns: 30 },
    );
  }, 30_000);

  it('stays bounded when attackers spray addresses', () => {
    const { flood } = setup();
    for (let i = 0; i < 50_000; i++) flood.admitAddress(`2001:db8::${i.toString(16)}`);
    // Finishing at all is the point: the sweep is amortised O(1), not a scan per new address.
    expect(flood.bans().address.size).toBe(0);
  });
});

describe('per-address failed authentications', () => {
  it('bans an address after more than N failures in M seconds, counts the ban, lifts it after the ban time', async () => {
    const { clock, flood, bans } = setup();
    for (let i = 0; i < 4; i++) flood.recordAuthFailure('10.0.0.9');
    expect(flood.addressBanned('10.0.0.9')).toBe(false);
    flood.recordAuthFailure('10.0.0.9');
    expect(flood.addressBanned('10.0.0.9')).toBe(true);
    expect(flood.addressBanned('10.0.0.8')).toBe(false);
    expect(await bans('auth-failures')).toBe(1);
    for (let i = 0; i < 100; i++) flood.recordAuthFailure('10.0.0.9'); // does not extend the ban
    clock.advance(30_000);
    expect(flood.addressBanned('10.0.0.9')).toBe(false);
    expect(await bans('auth-failures')).toBe(1);
  });

  it('never touches the connection bucket: a banned address still connects at the bucket rate', () => {
    const { flood } = setup();
    for (let i = 0; i < 10; i++) flood.recordAuthFailure('10.0.0.9');
    expect(flood.addressBanned('10.0.0.9')).toBe(true);
    expect(flood.admitAddress('10.0.0.9')).toBe(true);
  });

  it('forgets failures older than the window', () => {
    const { clock, flood } = setup();
    for (let i = 0; i < 50; i++) {
      flood.recordAuthFailure('10.0.0.7');
      clock.advance(15_001); // 4 per 60 s is the limit
    }
    expect(flood.addressBanned('10.0.0.7')).toBe(false);
  });
});

describe('auth-failed evidence per device and minute', () => {
  it('admits N rows per device per minute, then none until the next minute', () => {
    const { clock, flood } = setup();
    clock.set(Date.parse('2020-10-09T08:00:00+08:00'));
    expect([0, 1, 2, 3, 4].map(() => flood.admitAuthFailedEvidence('d1'))).toEqual([true, true, true, false, false]);
    expect(flood.admitAuthFailedEvidence('d2')).toBe(true);
    clock.advance(59_999);
    expect(flood.admitAuthFailedEvidence('d1')).toBe(false);
    clock.advance(1);
    expect(flood.admitAuthFailedEvidence('d1')).toBe(true);
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

describe("another node's flapping ban (shared through the registry)", () => {
  it('refuses the device until the ban ends, neither counting nor reporting it again, and never shortens a ban', async () => {
    const { clock, flood, bans } = setup();
    const reported: string[] = [];
    const onBan = createFloodControl({ clock, metrics: createMetrics(), limits: LIMITS, onBan: (_r, subject) => reported.push(subject) });
    onBan.adoptDeviceBan('dev', clock.now() + 10_000);
    expect(onBan.deviceBanned('dev')).toBe(true);
    expect(reported).toEqual([]);

    for (let i = 0; i < 4; i++) flood.recordDeviceConnect('dev'); // banned here until now + 30 s
    flood.adoptDeviceBan('dev', clock.now() + 10_000); // an older decision from elsewhere
    expect(await bans('flapping')).toBe(1);
    clock.advance(29_999);
    expect(flood.deviceBanned('dev')).toBe(true);
    flood.adoptDeviceBan('dev', clock.now() + 5_000);
    clock.advance(4_999);
    expect(flood.deviceBanned('dev')).toBe(true);
    clock.advance(1);
    expect(flood.deviceBanned('dev')).toBe(false);
    expect(flood.bans().device.size).toBe(0);
  });
});
