import { describe, expect, it } from 'vitest';
import { addDays, shanghaiDayStart } from '../../../src/time/shanghai.js';
import {
  DEFAULT_ACTIVITY_POLICY,
  resolvePolicy,
  verifyContract,
  verifyDigest,
  type VerificationInput,
} from '../../../src/verifier/index.js';
import type { DeviceDayActivity } from '../../../src/telemetry/types.js';
import { buildDeviceDay, range } from '../../support/activity.js';

const AT_DAY = '2020-11-30';
const AT = shanghaiDayStart(AT_DAY) + 23 * 3600_000; // 23:00 Shanghai

function buildInput(overrides: Partial<VerificationInput> = {}): VerificationInput {
  return {
    contract: { id: 'ctr_1', catalogId: 5, voucherFen: 10_000_000, requiredDevices: 67 },
    devices: [{ id: 'd1', serial: 'S1' }],
    duplicates: new Map(),
    activity: [],
    connections: new Map(),
    replaysByDevice: new Map(),
    policy: DEFAULT_ACTIVITY_POLICY,
    at: AT,
    ...overrides,
  };
}

/** `count` active days (60 minutes each) for a device, ending at the day of `at`. */
function activeDays(deviceId: string, count: number, minutesPerDay = 60, lastDay = AT_DAY): DeviceDayActivity[] {
  return range(0, count).map((i) => buildDeviceDay({ deviceId, day: addDays(lastDay, -i), minutes: range(0, minutesPerDay) }));
}

describe('verifyContract: stored counts and minute maps', () => {
  it('takes closed days from their stored online minutes and counts the last day from its map up to `at`', () => {
    // Closed days without maps (as the store returns them with minuteMapsFrom = the last day).
    const closed = activeDays('d1', 20, 60, addDays(AT_DAY, -1)).map(({ minuteMap: _map, ...row }) => row);
    // The last day: online 22:30–23:29, counted only up to 23:00 (`at`) → 31 minutes.
    const last = buildDeviceDay({ deviceId: 'd1', day: AT_DAY, minutes: range(22 * 60 + 30, 23 * 60 + 30) });
    const report = verifyContract(buildInput({ activity: [...closed, last] }));
    expect(report.devices[0]!.dailyMinutes.at(-1)).toBe(31);
    expect(report.devices[0]).toMatchObject({ activeDays: 20, onlineMinutes: 20 * 60 + 31 });
  });

  it('refuses to guess when the day containing `at` comes without its minute map', () => {
    const { minuteMap: _map, ...lastWithoutMap } = buildDeviceDay({ deviceId: 'd1', day: AT_DAY, minutes: range(0, 60) });
    expect(() => verifyContract(buildInput({ activity: [lastWithoutMap] }))).toThrow(/no minute map/);
  });
});

describe('verifyContract: active days and minutes', () => {
  it('counts a device with exactly 20 active days as active', () => {
    const report = verifyContract(buildInput({ activity: activeDays('d1', 20) }));
    expect(report.devices[0]).toMatchObject({ active: true, activeDays: 20, onlineMinutes: 1200 });
  });

  it('does not count a device with 19 active days', () => {
    const report = verifyContract(buildInput({ activity: activeDays('d1', 19) }));
    expect(report.devices[0]).toMatchObject({ active: false, activeDays: 19 });
    expect(report.activeDevices).toBe(0);
  });

  it('needs 60 online minutes for an active day: 59 is not enough', () => {
    const r59 = verifyContract(buildInput({ activity: activeDays('d1', 30, 59) }));
    const r60 = verifyContract(buildInput({ activity: activeDays('d1', 30, 60) }));
    expect(r59.devices[0]!.activeDays).toBe(0);
    expect(r60.devices[0]!.activeDays).toBe(30);
  });

  it('treats a Shanghai day that straddles UTC midnight as one day', () => {
    // 07:00–08:59 Shanghai is 23:00–00:59 UTC of the previous/next UTC dates: still one Shanghai day.
    const rows = range(0, 20).map((i) =>
      buildDeviceDay({ deviceId: 'd1', day: addDays(AT_DAY, -i), minutes: [...range(7 * 60 + 30, 8 * 60), ...range(8 * 60, 8 * 60 + 30)] }),
    );
    const report = verifyContract(buildInput({ activity: rows }));
    expect(report.devices[0]).toMatchObject({ activeDays: 20, active: true });
  });

  it('ignores activity from before the window', () => {
    const before = activeDays('d1', 30, 120, addDays(AT_DAY, -30));
    const report = verifyContract(buildInput({ activity: before }));
    expect(report.devices[0]).toMatchObject({ active: false, activeDays: 0, heartbeats: 0 });
    expect(report.devices[0]!.signals.map((s) => s.code)).toContain('NEVER_SEEN');
  });

  it('counts minutes of the last day only up to the minute of `at`', () => {
    const row = buildDeviceDay({ deviceId: 'd1', day: AT_DAY, minutes: range(0, 1440) });
    const noon = shanghaiDayStart(AT_DAY) + 12 * 3600_000;
    const policy = resolvePolicy(DEFAULT_ACTIVITY_POLICY, { windowDays: 1, minActiveDays: 1, minOnlineMinutes: 1 });
    const report = verifyContract(buildInput({ activity: [row], at: noon, policy }));
    expect(report.devices[0]!.onlineMinutes).toBe(12 * 60 + 1);
    expect(report.window.days).toEqual([AT_DAY]);
  });

  it('passes with 67 active devices when 67 are required, fails with 66', () => {
    const devices = range(0, 67).map((i) => ({ id: `d${String(i).padStart(3, '0')}`, serial: `S${i}` }));
    const all = devices.flatMap((d) => activeDays(d.id, 20));
    const pass = verifyContract(buildInput({ devices, activity: all }));
    expect(pass).toMatchObject({ requiredDevices: 67, activeDevices: 67, passed: true });
    const short = verifyContract(buildInput({ devices, activity: all.filter((r) => r.deviceId !== 'd000') }));
    expect(short).toMatchObject({ activeDevices: 66, passed: false });
  });

  it('reports passed = null for items without a per-device threshold', () => {
    const report = verifyContract(buildInput({ contract: { id: 'c', catalogId: 6, voucherFen: 1, requiredDevices: null } }));
    expect(report.passed).toBeNull();
  });
});

describe('verifyContract: signals', () => {
  it('does not count a device whose duplicated serial is held by another contract, and names no other contract', () => {
    const report = verifyContract(
      buildInput({ activity: activeDays('d1', 30), duplicates: new Map([['S1', { registrations: 2, countedHere: false, basis: 'earliest-registration' as const }]]) }),
    );
    expect(report.devices[0]).toMatchObject({ active: true, counted: false });
    expect(report.devices[0]!.signals[0]).toMatchObject({ code: 'DUPLICATE_SERIAL', data: { registrations: 2, countedHere: 'no' } });
    expect(JSON.stringify(report.devices)).not.toContain('ctr_');
    expect(report.activeDevices).toBe(0);
  });

  it('counts a duplicated serial where it is held (earliest registration or a reviewer), still flagged', () => {
    for (const basis of ['earliest-registration', 'reviewer'] as const) {
      const report = verifyContract(buildInput({ activity: activeDays('d1', 30), duplicates: new Map([['S1', { registrations: 2, countedHere: true, basis }]]) }));
      expect(report.devices[0]).toMatchObject({ active: true, counted: true });
      expect(report.devices[0]!.signals[0]).toMatchObject({ code: 'DUPLICATE_SERIAL', data: { countedHere: 'yes', basis } });
    }
  });

  it("leaves a reviewer's excluded device out of the count, and the exclusion changes the digest", () => {
    const plain = verifyContract(buildInput({ activity: activeDays('d1', 30) }));
    const note = { by: 'key_1', at: '2020-11-01T10:00:00.000+08:00', reason: 'device photographed in another factory' };
    const reviewed = verifyContract(buildInput({ activity: activeDays('d1', 30), reviews: { exclusions: new Map([['d1', note]]), serialAssignments: new Map() } }));
    expect(plain.devices[0]).toMatchObject({ counted: true, excluded: null });
    expect(reviewed.devices[0]).toMatchObject({ active: true, counted: false, excluded: note });
    expect(reviewed.reviews.exclusions).toEqual([{ deviceId: 'd1', ...note }]);
    expect(reviewed.activeDevices).toBe(0);
    expect(reviewed.digest).not.toBe(plain.digest);
  });

  it('raises CLOCK_SKEW when the mean device-clock offset exceeds the threshold, not below', () => {
    const skewed = activeDays('d1', 20).map((r) => ({ ...r, skewSamples: 60, skewAbsSumMs: 60 * 600_000 }));
    const fine = activeDays('d1', 20).map((r) => ({ ...r, skewSamples: 60, skewAbsSumMs: 60 * 800 }));
    expect(verifyContract(buildInput({ activity: skewed })).devices[0]!.signals.map((s) => s.code)).toEqual(['CLOCK_SKEW']);
    expect(verifyContract(buildInput({ activity: fine })).devices[0]!.signals).toEqual([]);
  });

  it('raises LOCKSTEP when most heartbeats were coincident', () => {
    const lock = activeDays('d1', 20).map((r) => ({ ...r, coincidentHeartbeats: 55 }));
    const honest = activeDays('d1', 20).map((r) => ({ ...r, coincidentHeartbeats: 2 }));
    expect(verifyContract(buildInput({ activity: lock })).devices[0]!.signals.map((s) => s.code)).toEqual(['LOCKSTEP']);
    expect(verifyContract(buildInput({ activity: honest })).devices[0]!.signals).toEqual([]);
  });

  it('raises SEQ_REPLAY and SESSION_TAKEOVER from ingest evidence', () => {
    const report = verifyContract(
      buildInput({
        activity: activeDays('d1', 20),
        replaysByDevice: new Map([['d1', 5]]),
        connections: new Map([['d1', { connects: 9, takeovers: 4, sources: ['10.0.0.1', '10.0.0.2'] }]]),
      }),
    );
    expect(report.devices[0]!.signals.map((s) => s.code).sort()).toEqual(['SEQ_REPLAY', 'SESSION_TAKEOVER']);
  });

  it('raises SILENT when the last heartbeat is older than the threshold', () => {
    const report = verifyContract(buildInput({ activity: activeDays('d1', 20, 60, addDays(AT_DAY, -2)) }));
    expect(report.devices[0]!.signals.map((s) => s.code)).toEqual(['SILENT']);
  });
});

describe('verifyContract: digest', () => {
  it('is stable across runs and changes when any device evidence changes', () => {
    const activity = activeDays('d1', 25);
    const a = verifyContract(buildInput({ activity }));
    const b = verifyContract(buildInput({ activity: [...activity].reverse() }));
    expect(a.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.digest).toBe(a.digest);
    expect(verifyDigest(a)).toBe(true);
    const changed = verifyContract(buildInput({ activity: activity.map((r, i) => (i === 3 ? { ...r, heartbeats: r.heartbeats + 1 } : r)) }));
    expect(changed.digest).not.toBe(a.digest);
    expect(verifyDigest({ ...a, activeDevices: a.activeDevices + 1 })).toBe(false);
  });
});
