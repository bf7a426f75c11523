import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateVirtual, verifyContract, type DeviceVerification, type VirtualSession } from '../../../simulators/run.js';
import { parseScenario } from '../../../simulators/scenario.js';

/**
 * Issue 19 end to end: careful one-process fleets and honest separate hardware, three days in
 * 1 ms virtual ticks against the gateway the simulator starts — the signals come from what the
 * gateway's ingest kept (clock-drift sums, connection events) and its verification API.
 */
const scenario = parseScenario({
  name: 'careful-it',
  seed: 5,
  start: '2020-11-02T00:00:00+08:00',
  days: 3,
  tickMs: 1,
  contracts: [
    {
      name: 'honest',
      catalogId: 24,
      contractAmountFen: 1_000_000,
      supplier: 'A',
      fleets: [{ profile: 'hardware', devices: 8, intervalSec: 300, qos: 0, source: 'shared', hardware: { ntp: 'none', uplink: { perDay: 4 } } }],
    },
    {
      name: 'one-clock',
      catalogId: 25,
      contractAmountFen: 1_000_000,
      supplier: 'X',
      fleets: [{ profile: 'one-process', devices: 6, intervalSec: 300, qos: 0, oneProcess: { hostPpm: 15, periodPpmSd: 30 } }],
    },
    {
      name: 'one-life',
      catalogId: 25,
      contractAmountFen: 1_000_000,
      supplier: 'X',
      fleets: [{ profile: 'one-process', devices: 6, intervalSec: 300, qos: 0, oneProcess: { hostNtp: true, restartsPerDay: 2 } }],
    },
  ],
});

let session: VirtualSession;
const reports = new Map<string, DeviceVerification[]>();
beforeAll(async () => {
  session = await simulateVirtual(scenario, existsSync('/dev/shm') ? { tmpRoot: '/dev/shm' } : {});
  for (const c of session.provisioned.contracts) reports.set(c.name, (await verifyContract(session.gw.api, c.id, session.verifyAt)).devices);
}, 120_000);
afterAll(async () => session?.gw.close());

const codes = (name: string) => reports.get(name)!.map((d) => d.signals.map((s) => s.code));

describe('one machine posing as many', () => {
  it('SHARED_CLOCK: every device of the one-process fleet drifts at its host clock’s 15 ppm, per-device timer offsets notwithstanding', () => {
    for (const d of reports.get('one-clock')!) {
      const signal = d.signals.find((s) => s.code === 'SHARED_CLOCK');
      expect(signal, d.id).toBeDefined();
      expect(Math.abs((signal!.data.driftPpm as number) - 15)).toBeLessThan(0.1);
      expect(signal!.data.sameClockDevices).toBe(6);
    }
  });

  it('ONE_LIFE: the restarted process drops its devices together, again and again', () => {
    for (const d of reports.get('one-life')!) {
      const signal = d.signals.find((s) => s.code === 'ONE_LIFE');
      expect(signal, d.id).toBeDefined();
      expect(signal!.data.moments).toBeGreaterThanOrEqual(2);
    }
    expect(codes('one-life').flat()).not.toContain('SHARED_CLOCK'); // its host keeps UTC: nothing to compare
  });

  it('separate hardware behind one NAT with uplink drops raises neither', () => {
    expect(codes('honest').flat()).toEqual([]);
  });
});
