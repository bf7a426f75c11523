import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceSchedule } from '../../../simulators/profiles.js';
import { DAY_MS, MINUTE_MS } from '../../../src/time/shanghai.js';
import { simulateVirtual, verifyContract, type VirtualSession } from '../../../simulators/run.js';
import { parseScenario, type ScenarioInput } from '../../../simulators/scenario.js';
import type { DeviceDayActivity } from '../../../src/telemetry/types.js';

/**
 * Every profile, briefly, in virtual time against the gateway the simulator starts (in a worker
 * thread) — checked by what the gateway stored (minute maps, counters, rejections, read from its
 * store through the worker) and the signals it raised (its verification API).
 * Friday 2020-11-06 00:00 (Asia/Shanghai) to Monday 2020-11-09 00:00.
 */
const DAILY = [1, 2, 3, 4, 5, 6, 7];
const shift = (from: string, to: string, weekdays = DAILY) => ({ from, to, weekdays });

const input: ScenarioInput = {
  name: 'profiles',
  seed: 11,
  start: '2020-11-06T00:00:00+08:00',
  days: 3,
  tickMs: 1000,
  contracts: [
    { name: 'shifts', catalogId: 5, contractAmountFen: 1_000_000, supplier: 'A', fleets: [{ profile: 'shifts', devices: 3, shift: shift('08:00', '09:30', [1, 2, 3, 4, 5]) }] },
    {
      name: 'flaky',
      catalogId: 5,
      contractAmountFen: 1_000_000,
      supplier: 'A',
      fleets: [{ profile: 'flaky', devices: 3, shift: shift('08:00', '12:00'), outages: { perDay: 24, minMinutes: 5, maxMinutes: 10, backoffInitialSec: 1, backoffMaxSec: 60 } }],
    },
    { name: 'dead', catalogId: 5, contractAmountFen: 1_000_000, supplier: 'A', fleets: [{ profile: 'dead-after', devices: 3, intervalSec: 600, deadAfterDays: 1 }] },
    { name: 'nat', catalogId: 24, contractAmountFen: 1_000_000, supplier: 'B', fleets: [{ profile: 'shifts', devices: 6, source: 'shared', shift: shift('08:00', '09:30') }] },
    { name: 'qos0', catalogId: 24, contractAmountFen: 1_000_000, supplier: 'B', fleets: [{ profile: 'shifts', devices: 2, qos: 0, shift: shift('10:00', '11:00') }] },
    { name: 'lockstep', catalogId: 25, contractAmountFen: 1_000_000, supplier: 'C', fleets: [{ profile: 'lockstep', devices: 5, shift: shift('08:00', '09:30') }] },
    { name: 'replay', catalogId: 25, contractAmountFen: 1_000_000, supplier: 'C', fleets: [{ profile: 'replay', devices: 3, replay: { every: 5, depth: 3 }, shift: shift('08:00', '09:30') }] },
    { name: 'skew', catalogId: 25, contractAmountFen: 1_000_000, supplier: 'C', fleets: [{ profile: 'clock-skew', devices: 3, skewSec: 600, shift: shift('08:00', '09:30') }] },
    { name: 'clone', catalogId: 25, contractAmountFen: 1_000_000, supplier: 'D', fleets: [{ profile: 'cloned-serial', devices: 2, cloneOf: 'shifts', shift: shift('08:00', '09:30') }] },
    { name: 'burst', catalogId: 25, contractAmountFen: 1_000_000, supplier: 'C', fleets: [{ profile: 'burst', devices: 3, burst: { heartbeats: 60, everyHours: 24, atMinute: 840 } }] },
  ],
};
const scenario = parseScenario(input);
const START = Date.parse(scenario.start);
const DAYS = ['2020-11-06', '2020-11-07', '2020-11-08'];

let session: VirtualSession;
beforeAll(async () => {
  // A few devices a tick would run in one thread by default; this test is about the worker's.
  session = await simulateVirtual(scenario, { thread: 'worker' });
});
afterAll(async () => session?.gw.close());

function idsOf(contract: string): string[] {
  return session.devices.filter((d) => d.contract === contract).map((d) => d.id);
}

function contractId(name: string): string {
  return session.provisioned.contracts.find((c) => c.name === name)!.id;
}

async function activity(contract: string): Promise<DeviceDayActivity[]> {
  return session.gw.gateway.dailyActivity(idsOf(contract), DAYS[0]!, DAYS[2]!);
}

function minutesOf(row: DeviceDayActivity): number[] {
  const minutes: number[] = [];
  for (let m = 0; m < 1440; m++) if (row.minuteMap![m >> 3]! & (1 << (m & 7))) minutes.push(m);
  return minutes;
}

async function signals(contract: string): Promise<Map<string, string[]>> {
  const report = await verifyContract(session.gw.api, contractId(contract), session.verifyAt);
  return new Map(report.devices.map((d) => [d.id, d.signals.map((s) => s.code)]));
}

describe('honest profiles', () => {
  it('shifts: online only within 08:00–09:30 on the weekday, nothing at the weekend', async () => {
    const rows = await activity('shifts');
    expect(rows.map((r) => r.day)).toEqual(['2020-11-06', '2020-11-06', '2020-11-06']);
    for (const row of rows) {
      const minutes = minutesOf(row);
      expect(Math.min(...minutes)).toBeGreaterThanOrEqual(8 * 60);
      expect(Math.max(...minutes)).toBeLessThan(9 * 60 + 30);
      // one heartbeat a minute after power-on: 85–90 online minutes, an active day
      expect(minutes.length).toBeGreaterThanOrEqual(85);
    }
  });

  it('flaky: outages leave gaps of several minutes inside the shift, and the device reconnects after them', async () => {
    const rows = await activity('flaky');
    expect(rows).toHaveLength(9);
    let longestGaps = 0;
    for (const row of rows) {
      const minutes = minutesOf(row);
      const inside = minutes.filter((m) => m >= 8 * 60 && m < 12 * 60);
      expect(inside.length).toBe(minutes.length);
      expect(inside.length).toBeLessThan(235); // a 4 h shift with outages
      const gaps = inside.slice(1).map((m, i) => m - inside[i]! - 1);
      if (Math.max(...gaps) >= 4) longestGaps++;
      expect(Math.max(...inside)).toBeGreaterThan(11 * 60); // came back after every outage
    }
    expect(longestGaps).toBeGreaterThanOrEqual(8);
  });

  it('dead-after: heartbeats stop after the first day for good', async () => {
    const rows = await activity('dead');
    expect(new Set(rows.map((r) => r.day))).toEqual(new Set(['2020-11-06']));
    for (const row of rows) expect(row.lastSeen).toBeLessThan(START + DAY_MS);
    for (const codes of (await signals('dead')).values()) expect(codes).toContain('SILENT');
  });

  it('honest devices behind one NAT address are not in lock-step', async () => {
    const rows = await activity('nat');
    const heartbeats = rows.reduce((n, r) => n + r.heartbeats, 0);
    const coincident = rows.reduce((n, r) => n + r.coincidentHeartbeats, 0);
    expect(heartbeats).toBeGreaterThan(6 * 3 * 80);
    expect(coincident / heartbeats).toBeLessThan(0.1);
    for (const codes of (await signals('nat')).values()) expect(codes).toEqual([]);
  });

  it('QoS 0: every heartbeat is stored under the minute it was sent in (the driver waits for the gateway)', async () => {
    const rows = await activity('qos0');
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      const minutes = minutesOf(row);
      expect(Math.min(...minutes)).toBeGreaterThanOrEqual(10 * 60);
      expect(Math.max(...minutes)).toBeLessThan(11 * 60);
      expect(row.heartbeats).toBeGreaterThanOrEqual(55);
    }
  });
});

describe('dishonest profiles', () => {
  it('lockstep: the devices of one process arrive together every time and are flagged', async () => {
    const rows = await activity('lockstep');
    const heartbeats = rows.reduce((n, r) => n + r.heartbeats, 0);
    const coincident = rows.reduce((n, r) => n + r.coincidentHeartbeats, 0);
    expect(coincident / heartbeats).toBeGreaterThan(0.9);
    // one timer: every device of the fleet was online in exactly the same minutes
    const byDay = new Map<string, string[]>();
    for (const r of rows) byDay.set(r.day, [...(byDay.get(r.day) ?? []), minutesOf(r).join(',')]);
    for (const maps of byDay.values()) expect(new Set(maps).size).toBe(1);
    for (const codes of (await signals('lockstep')).values()) expect(codes).toContain('LOCKSTEP');
  });

  it('replay: re-sent sequence numbers are dropped, counted, and raise SEQ_REPLAY', async () => {
    const report = await verifyContract(session.gw.api, contractId('replay'), session.verifyAt);
    const fleet = scenario.contracts.find((c) => c.name === 'replay')!.fleets[0]!;
    const creds = session.provisioned.fleets.find((f) => f.contract === 'replay')!.devices;
    for (const [deviceIndex, cred] of creds.entries()) {
      const actions = [...deviceSchedule(fleet, { seed: scenario.seed, fleetId: 'replay/0', deviceIndex, start: START, end: START + 3 * DAY_MS })];
      const replays = actions.filter((a) => a.kind === 'heartbeat' && a.replay).length;
      const originals = actions.filter((a) => a.kind === 'heartbeat' && !a.replay).length;
      const device = report.devices.find((d) => d.id === cred.id)!;
      expect(replays).toBeGreaterThanOrEqual(3);
      expect(device.heartbeats).toBe(originals);
      const signal = device.signals.find((s) => s.code === 'SEQ_REPLAY');
      expect(signal?.data.replays).toBe(replays);
    }
  });

  it('clock-skew: a device clock 10 minutes ahead raises CLOCK_SKEW', async () => {
    const rows = await activity('skew');
    for (const r of rows) expect(r.skewAbsSumMs / r.skewSamples).toBeGreaterThan(590_000);
    for (const codes of (await signals('skew')).values()) expect(codes).toContain('CLOCK_SKEW');
  });

  it('cloned-serial: the serial registered under two suppliers’ contracts is flagged on both', async () => {
    const clone = await signals('clone');
    expect([...clone.values()]).toEqual([expect.arrayContaining(['DUPLICATE_SERIAL']), expect.arrayContaining(['DUPLICATE_SERIAL'])]);
    const cloned = new Set(session.devices.filter((d) => d.contract === 'clone').map((d) => d.serial));
    const original = await signals('shifts');
    for (const d of session.devices.filter((x) => x.contract === 'shifts')) {
      expect(original.get(d.id)!.includes('DUPLICATE_SERIAL')).toBe(cloned.has(d.serial));
    }
  });

  it('burst: 60 heartbeats a day yield one online minute a day', async () => {
    const rows = await activity('burst');
    expect(rows).toHaveLength(9);
    for (const r of rows) {
      expect(r.heartbeats).toBe(60);
      expect(minutesOf(r)).toHaveLength(1);
      expect(r.lastSeen - r.firstSeen).toBeLessThan(MINUTE_MS);
    }
  });
});
