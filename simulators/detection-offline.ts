import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClockDriftTracker } from '../src/ingest/clock-drift.js';
import { sharedClocks, sharedLives, type DriftSums, type LifecycleEvent } from '../src/verifier/fleet-signals.js';
import { DEFAULT_ACTIVITY_POLICY } from '../src/verifier/policy.js';
import { formatTable } from './run.js';
import { deviceSchedule } from './profiles.js';
import { isDishonest, loadScenario, scenarioEndMs, scenarioStartMs, type Scenario } from './scenario.js';

/**
 * The tuning aid for SHARED_CLOCK and ONE_LIFE: plays a scenario's schedules straight into the
 * ingest's clock-drift tracker and the verifier's fleet functions, without a gateway — seconds
 * for twenty seeds instead of minutes a seed. It holds only for 1 ms ticks (the gateway then
 * stamps every heartbeat with its schedule time) and leaves out what needs the gateway (the
 * other signals, flushing). The numbers that count are `npm run detection`'s, through the gateway.
 *
 *   npm run detection:offline [-- scenario.yaml] [--seeds tune|held-out|1,2,3]
 */
interface Tally {
  label: string;
  dishonest: boolean;
  devices: number;
  sharedClock: number;
  oneLife: number;
  fleetsRight: number;
  fleets: number;
}

export function offlineTally(scenario: Scenario, seeds: readonly number[]): Tally[] {
  const policy = DEFAULT_ACTIVITY_POLICY;
  const start = scenarioStartMs(scenario);
  const end = scenarioEndMs(scenario);
  const tallies = new Map<string, Tally>();
  for (const seed of seeds) {
    for (const contract of scenario.contracts) {
      const tracker = createClockDriftTracker({ stepMs: 50, gapMs: 15 * 60_000 });
      const lifecycle: LifecycleEvent[] = [];
      const fleetOf = new Map<string, number>();
      contract.fleets.forEach((fleet, fi) => {
        for (let i = 0; i < fleet.devices; i++) {
          const id = `${fi}/${i}`;
          fleetOf.set(id, fi);
          for (const a of deviceSchedule(fleet, { seed, fleetId: `${contract.name}/${fi}`, deviceIndex: i, start, end })) {
            if (a.at >= end) break;
            if (a.kind === 'heartbeat') tracker.observe(id, a.at, a.ts);
            else lifecycle.push({ deviceId: id, at: a.at, kind: a.kind });
          }
        }
      });
      const days = new Map<string, Map<number, DriftSums>>();
      tracker.closeIdle(Number.POSITIVE_INFINITY);
      for (const s of tracker.take()) {
        let byDay = days.get(s.deviceId);
        if (!byDay) days.set(s.deviceId, (byDay = new Map()));
        const d = byDay.get(s.dayNumber) ?? { samples: 0, segments: 0, sxx: 0, sxy: 0, syy: 0 };
        byDay.set(s.dayNumber, { samples: d.samples + s.samples, segments: d.segments + s.segments, sxx: d.sxx + s.sxx, sxy: d.sxy + s.sxy, syy: d.syy + s.syy });
      }
      const clocks = sharedClocks(new Map([...days].map(([id, m]) => [id, [...m.values()]])), policy);
      const lives = sharedLives(lifecycle, policy);
      contract.fleets.forEach((fleet, fi) => {
        const label = fleet.label ?? fleet.profile;
        let t = tallies.get(label);
        if (!t) tallies.set(label, (t = { label, dishonest: isDishonest(fleet.profile), devices: 0, sharedClock: 0, oneLife: 0, fleetsRight: 0, fleets: 0 }));
        let caught = 0;
        for (const [id, f] of fleetOf) {
          if (f !== fi) continue;
          const clock = (clocks.get(id)?.sameClockDevices ?? 0) >= policy.sharedClockMinDevices;
          const life = (lives.get(id)?.moments ?? 0) >= policy.oneLifeMinMoments;
          t.devices++;
          if (clock) t.sharedClock++;
          if (life) t.oneLife++;
          if (clock || life) caught++;
        }
        t.fleets++;
        if (t.dishonest ? caught === fleet.devices : caught === 0) t.fleetsRight++;
      });
    }
  }
  return [...tallies.values()].sort((a, b) => Number(a.dishonest) - Number(b.dishonest));
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { seeds: { type: 'string', default: 'tune' } } });
  const file = positionals[0] ?? fileURLToPath(new URL('./scenarios/careful.yaml', import.meta.url));
  const scenario = loadScenario(file);
  const named = { tune: scenario.detectionSeeds?.tune, 'held-out': scenario.detectionSeeds?.heldOut }[values.seeds!];
  const seeds = named ?? values.seeds!.split(',').map(Number);
  const rows = offlineTally(scenario, seeds);
  process.stdout.write(
    `${formatTable(
      ['fleet', 'kind', 'fleets right', 'devices', 'SHARED_CLOCK', 'ONE_LIFE'],
      rows.map((r) => [r.label, r.dishonest ? 'dishonest' : 'honest', `${r.fleetsRight}/${r.fleets}`, r.devices, r.sharedClock, r.oneLife]),
    )}\n(seeds ${seeds.join(', ')}; schedules into the trackers, no gateway)\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
