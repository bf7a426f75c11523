import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceSchedule, onPeriods, reconnectTime, type DeviceAction } from '../../../simulators/profiles.js';
import { loadScenario, parseScenario, ScenarioError } from '../../../simulators/scenario.js';

const SCENARIOS = join(import.meta.dirname, '../../../simulators/scenarios');
const START = Date.parse('2020-11-02T00:00:00+08:00'); // a Monday

describe('scenario files', () => {
  it.each(readdirSync(SCENARIOS).filter((f) => /\.(ya?ml|json)$/.test(f)))('committed scenario %s is valid', (file) => {
    expect(() => loadScenario(join(SCENARIOS, file))).not.toThrow();
  });

  it('rejects a poisoned scenario naming every bad field', () => {
    const bad = {
      seed: 'x',
      tickMs: 0,
      contracts: [
        { name: 'a', catalogId: 5, contractAmountFen: 100, supplier: 'A', fleets: [{ profile: 'shifts', devices: 1 }] },
        { name: 'b', catalogId: 25, contractAmountFen: 100, supplier: 'A', fleets: [{ profile: 'cloned-serial', devices: 1, cloneOf: 'a' }, { profile: 'teleport', devices: 1 }] },
      ],
    };
    try {
      parseScenario(bad);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ScenarioError);
      const text = (err as ScenarioError).problems.join('\n');
      expect(text).toMatch(/^seed:/m);
      expect(text).toMatch(/^tickMs:/m);
      expect(text).toMatch(/contracts\.0\.fleets\.0\.shift: the shifts profile needs a shift/);
      expect(text).toMatch(/contracts\.1\.fleets\.1\.profile/);
    }
  });

  it('rejects a cloned-serial fleet that would clone its own supplier\'s serials, or a contract that is not there', () => {
    const fleets = (cloneOf: string) => [{ profile: 'cloned-serial', devices: 1, cloneOf }];
    const problems = (cloneOf: string) => {
      try {
        parseScenario({
          contracts: [
            { name: 'a', catalogId: 5, contractAmountFen: 100, supplier: 'A', fleets: [{ profile: 'always-on', devices: 1 }] },
            { name: 'b', catalogId: 25, contractAmountFen: 100, supplier: 'A', fleets: fleets(cloneOf) },
          ],
        });
        return '';
      } catch (err) {
        return (err as ScenarioError).problems.join('\n');
      }
    };
    expect(problems('a')).toMatch(/contracts\.1\.fleets\.0\.cloneOf: a serial cannot be registered twice by one supplier/);
    expect(problems('nope')).toMatch(/contracts\.1\.fleets\.0\.cloneOf: no contract named nope/);
  });
});

describe('schedules (pure)', () => {
  const fleet = (over: Record<string, unknown>) =>
    parseScenario({ contracts: [{ name: 'x', catalogId: 5, contractAmountFen: 1, fleets: [over] }] }).contracts[0]!.fleets[0]!;
  const run = (f: ReturnType<typeof fleet>, deviceIndex: number, days = 2, seed = 1): DeviceAction[] => [
    ...deviceSchedule(f, { seed, fleetId: 'x/0', deviceIndex, start: START, end: START + days * 86_400_000 }),
  ];

  it('is reproducible from the seed and differs between seeds', () => {
    const f = fleet({ profile: 'flaky', devices: 1 });
    expect(run(f, 0)).toEqual(run(f, 0));
    expect(run(f, 0, 2, 2)).not.toEqual(run(f, 0));
  });

  it('gives honest devices independent phases and lock-step devices identical times', () => {
    const honest = fleet({ profile: 'always-on', devices: 2 });
    const times = (a: DeviceAction[]) => a.filter((x) => x.kind === 'heartbeat').map((x) => x.at);
    expect(times(run(honest, 0))).not.toEqual(times(run(honest, 1)));
    const lockstep = fleet({ profile: 'lockstep', devices: 2 });
    expect(times(run(lockstep, 0))).toEqual(times(run(lockstep, 1)));
  });

  it('keeps every action in time order, heartbeats only while connected', () => {
    for (const profile of ['always-on', 'flaky', 'replay', 'burst'] as const) {
      const actions = run(fleet({ profile, devices: 1, outages: { perDay: 20 } }), 0);
      let connected = false;
      for (let i = 0; i < actions.length; i++) {
        const a = actions[i]!;
        if (i > 0) expect(a.at).toBeGreaterThanOrEqual(actions[i - 1]!.at);
        if (a.kind === 'connect') {
          expect(connected).toBe(false);
          connected = true;
        } else if (a.kind === 'disconnect') {
          expect(connected).toBe(true);
          connected = false;
        } else expect(connected).toBe(true);
      }
    }
  });

  it('runs shifts on their weekdays only, crossing midnight when `to` is before `from`', () => {
    const week = onPeriods({ shift: { from: '22:00', to: '02:00', weekdays: [5] } }, START, START + 7 * 86_400_000);
    expect(week.map(([a, b]) => [new Date(a).toISOString(), new Date(b).toISOString()])).toEqual([
      ['2020-11-06T14:00:00.000Z', '2020-11-06T18:00:00.000Z'], // Friday 22:00 → Saturday 02:00 (+08:00)
    ]);
  });

  it('reconnects on the first back-off retry after the network is back', () => {
    // retries at +1, +3, +7, +15, +31, +63 s …: network back at +40 s → reconnect at +63 s
    expect(reconnectTime(0, 40_000, { backoffInitialSec: 1, backoffMaxSec: 600 })).toBe(63_000);
    expect(reconnectTime(0, 400_000, { backoffInitialSec: 1, backoffMaxSec: 60 })).toBe(423_000);
  });
});
