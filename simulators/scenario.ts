import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * A simulation scenario: who registers which devices under which contracts, and how each
 * fleet of devices behaves. The same file and seed always produce the same run (every random
 * choice comes from a PRNG seeded with `seed`, the fleet and the device index).
 */

const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM (24 h, Asia/Shanghai)');

export const HONEST_PROFILES = ['always-on', 'shifts', 'flaky', 'dead-after', 'hardware'] as const;
export const DISHONEST_PROFILES = ['lockstep', 'replay', 'clock-skew', 'cloned-serial', 'burst', 'one-process'] as const;
export const PROFILES = [...HONEST_PROFILES, ...DISHONEST_PROFILES] as const;
export type ProfileName = (typeof PROFILES)[number];

export const shiftSchema = z.object({
  /** Start and end of the working period, Asia/Shanghai local time; `to` before `from` crosses midnight. */
  from: timeOfDay,
  to: timeOfDay,
  /** ISO weekdays the shift runs on: 1 = Monday … 7 = Sunday. */
  weekdays: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
});

export const fleetSchema = z
  .object({
    profile: z.enum(PROFILES),
    /** Name of the fleet in detection tables (default: the profile). */
    label: z.string().min(1).max(80).optional(),
    devices: z.number().int().min(1).max(100_000),
    /** Seconds between heartbeats, and the uniform per-heartbeat jitter (±) around it. */
    intervalSec: z.number().min(1).max(86_400).default(60),
    jitterSec: z.number().min(0).max(3600).default(2),
    qos: z.union([z.literal(0), z.literal(1)]).default(1),
    /**
     * Connection source address: `device` gives each device its own loopback address (different
     * sites), `shared` puts the whole fleet behind one address (one NAT, or one process).
     * `lockstep` fleets are always `shared`.
     */
    source: z.enum(['device', 'shared']).default('device'),
    /** When devices run; without it they run around the clock. */
    shift: shiftSchema.optional(),
    /** Keep the MQTT connection open outside the shift (an edge gateway that stays on). */
    stayConnected: z.boolean().default(false),
    /** `flaky`: random outages (the connection drops) and reconnects with exponential back-off. */
    outages: z
      .object({
        perDay: z.number().min(0).max(100).default(2),
        minMinutes: z.number().min(0.1).default(5),
        maxMinutes: z.number().min(0.1).default(30),
        backoffInitialSec: z.number().min(0.1).default(1),
        backoffMaxSec: z.number().min(0.1).default(120),
      })
      .default({ perDay: 2, minMinutes: 5, maxMinutes: 30, backoffInitialSec: 1, backoffMaxSec: 120 }),
    /** `dead-after`: the device stops for good after this many days. */
    deadAfterDays: z.number().min(0).default(10),
    /** `replay`: every `every`-th heartbeat is followed by a re-send of the one `depth` heartbeats back. */
    replay: z.object({ every: z.number().int().min(1).default(20), depth: z.number().int().min(1).default(5) }).default({ every: 20, depth: 5 }),
    /** `clock-skew`: the device's `ts` runs this many seconds ahead (negative: behind). */
    skewSec: z.number().default(600),
    /** `cloned-serial`: register the serials of this contract's devices (another supplier's) again. */
    cloneOf: z.string().min(1).optional(),
    /** `burst`: `heartbeats` one second apart within one minute, then silence; repeated every `everyHours` (0 = once). */
    burst: z
      .object({ heartbeats: z.number().int().min(1).max(60).default(60), everyHours: z.number().min(0).default(0), atMinute: z.number().int().min(0).default(600) })
      .default({ heartbeats: 60, everyHours: 0, atMinute: 600 }),
    /** `hardware` (simulators/careful.ts): separate machines, each on its own crystal and network path. */
    hardware: z
      .object({
        /** Standard deviation of the crystals' rate error (ppm); industrial controllers and DTUs: tens of ppm. */
        ppmSd: z.number().min(0).max(500).default(20),
        /** How `ts` is kept: `none` (free-running, set by hand once), `step` (SNTP steps every poll), `slew` (disciplined to UTC), `mixed` (each device one of the three). */
        ntp: z.enum(['none', 'step', 'slew', 'mixed']).default('mixed'),
        ntpPollMinutes: z.number().min(1).default(64),
        ntpStepErrorMs: z.number().min(0).default(15),
        /** Free-running clocks start up to ± this far off. */
        initialOffsetSec: z.number().min(0).default(60),
        /** Network delay: a base per device drawn from [min, max] ms, plus exponential jitter of this mean. */
        delayMs: z.tuple([z.number().min(0), z.number().min(0)]).default([20, 200]),
        delayJitterMs: z.number().min(0).default(10),
        rebootsPerDay: z.number().min(0).default(0.2),
        /** Power-on and power-off of the machines spread over this many minutes around the shift's edges. */
        powerSpreadMinutes: z.number().min(0).default(10),
        /** The uplink the fleet shares (one NAT): drops per day, log-uniform in [minSec, maxSec]; up to holdSec TCP holds the data. */
        uplink: z
          .object({ perDay: z.number().min(0).default(0), minSec: z.number().min(0.1).default(2), maxSec: z.number().min(0.1).default(900), holdSec: z.number().min(0).default(30) })
          .default({ perDay: 0, minSec: 2, maxSec: 900, holdSec: 30 }),
      })
      .default({ ppmSd: 20, ntp: 'mixed', ntpPollMinutes: 64, ntpStepErrorMs: 15, initialOffsetSec: 60, delayMs: [20, 200], delayJitterMs: 10, rebootsPerDay: 0.2, powerSpreadMinutes: 10, uplink: { perDay: 0, minSec: 2, maxSec: 900, holdSec: 30 } }),
    /** `one-process` (simulators/careful.ts): one program posing as many devices, carefully. */
    oneProcess: z
      .object({
        /** Uniform ± jitter added to every setTimeout of a device (the chain accumulates it). */
        jitterMs: z.number().min(0).default(300),
        /** Standard deviation of a random per-device period offset (ppm), mimicking crystals; 0 = none. */
        periodPpmSd: z.number().min(0).default(0),
        /** The host's clock: disciplined by NTP, or free-running at `hostPpm` (default: drawn, sd 20 ppm). */
        hostNtp: z.boolean().default(false),
        hostPpm: z.number().optional(),
        /** Event-loop stalls (GC, CPU contention): per hour, log-uniform duration in [min, max] ms. */
        stallsPerHour: z.number().min(0).default(6),
        stallMs: z.tuple([z.number().min(1), z.number().min(1)]).default([20, 800]),
        /** Process restarts (deploys, crashes, host reboots) per day; each drops every connection at once. */
        restartsPerDay: z.number().min(0).default(0),
        restartSec: z.number().min(0).default(5),
        /** Connects, reconnects and disconnects spread over this many seconds. */
        staggerSec: z.number().min(0).default(300),
      })
      .default({ jitterMs: 300, periodPpmSd: 0, hostNtp: false, stallsPerHour: 6, stallMs: [20, 800], restartsPerDay: 0, restartSec: 5, staggerSec: 300 }),
  })
  .superRefine((f, ctx) => {
    if (f.profile === 'shifts' && !f.shift) ctx.addIssue({ code: 'custom', path: ['shift'], message: 'the shifts profile needs a shift' });
    if (f.profile === 'cloned-serial' && !f.cloneOf) ctx.addIssue({ code: 'custom', path: ['cloneOf'], message: 'the cloned-serial profile needs cloneOf' });
    if (f.outages.maxMinutes < f.outages.minMinutes) ctx.addIssue({ code: 'custom', path: ['outages', 'maxMinutes'], message: 'below minMinutes' });
  });

export const contractSchema = z.object({
  name: z.string().min(1).max(100),
  catalogId: z.number().int().min(1).max(27),
  contractAmountFen: z.number().int().positive(),
  city: z.string().min(1).default('佛山'),
  /** Supplier key within the scenario; contracts with the same key share one supplier. */
  supplier: z.string().min(1).default('A'),
  enterprise: z.string().min(1).optional(),
  fleets: z.array(fleetSchema).default([]),
});

export const scenarioSchema = z
  .object({
    name: z.string().default('scenario'),
    seed: z.number().int().default(1),
    /** Simulated start, ISO-8601 with offset. */
    start: z.iso.datetime({ offset: true }).default('2020-11-01T00:00:00+08:00'),
    days: z.number().positive().max(400).default(30),
    /** Virtual time: heartbeats are sent in ticks of this length, each stamped with the tick's start. */
    tickMs: z.number().int().min(1).max(300_000).default(1000),
    /** `npm run detection`: seeds the signals were tuned on, and held-out seeds the table reports. */
    detectionSeeds: z.object({ tune: z.array(z.number().int()).min(1), heldOut: z.array(z.number().int()).min(1) }).optional(),
    /** Verification time; defaults to the end of the run. */
    verifyAt: z.iso.datetime({ offset: true }).optional(),
    suppliers: z.record(z.string(), z.object({ name: z.string().min(1), kind: z.enum(['platform', 'other']).default('other') })).default({}),
    contracts: z.array(contractSchema).min(1),
  })
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    s.contracts.forEach((c, i) => {
      if (names.has(c.name)) ctx.addIssue({ code: 'custom', path: ['contracts', i, 'name'], message: `duplicate contract name ${c.name}` });
      names.add(c.name);
    });
    s.contracts.forEach((c, i) =>
      c.fleets.forEach((f, j) => {
        if (!f.cloneOf) return;
        const target = s.contracts.find((t) => t.name === f.cloneOf);
        if (!target) ctx.addIssue({ code: 'custom', path: ['contracts', i, 'fleets', j, 'cloneOf'], message: `no contract named ${f.cloneOf}` });
        else if (target.supplier === c.supplier)
          ctx.addIssue({ code: 'custom', path: ['contracts', i, 'fleets', j, 'cloneOf'], message: 'a serial cannot be registered twice by one supplier: clone from another supplier’s contract' });
        else if (target.fleets.filter((t) => t.profile !== 'cloned-serial').reduce((n, t) => n + t.devices, 0) < f.devices)
          ctx.addIssue({ code: 'custom', path: ['contracts', i, 'fleets', j, 'devices'], message: `${f.cloneOf} has fewer devices to clone` });
      }),
    );
  });

export type Scenario = z.infer<typeof scenarioSchema>;
export type FleetSpec = z.infer<typeof fleetSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;

export class ScenarioError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`invalid scenario ${source}:\n  ${problems.join('\n  ')}`);
    this.name = 'ScenarioError';
  }
}

/** Validates a parsed scenario object; throws a ScenarioError naming every bad field. */
export function parseScenario(value: unknown, source = '(inline)'): Scenario {
  const parsed = scenarioSchema.safeParse(value);
  if (!parsed.success) throw new ScenarioError(source, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  return parsed.data;
}

/** Reads a scenario file: `.json`, or YAML for anything else. */
export function loadScenario(file: string): Scenario {
  const text = readFileSync(file, 'utf8');
  let value: unknown;
  try {
    value = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ScenarioError(file, [(err as Error).message]);
  }
  return parseScenario(value, file);
}

export function isDishonest(profile: ProfileName): boolean {
  return (DISHONEST_PROFILES as readonly string[]).includes(profile);
}

export function scenarioStartMs(s: Scenario): number {
  return Date.parse(s.start);
}

export function scenarioEndMs(s: Scenario): number {
  return Date.parse(s.start) + Math.round(s.days * 86_400_000);
}
