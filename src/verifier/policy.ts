import { z } from 'zod';
import { fraudSignalCodeSchema } from './signal-codes.js';

/**
 * The activity policy: what counts as an online minute, an active day and an active device,
 * and the thresholds of every fraud signal. Defaults come from ../shared/SPEC.md ("What
 * 'active device' means"); each is a named parameter a reviewer can override per request for
 * a what-if, and the policy used is echoed in every report.
 */
export const activityPolicySchema = z
  .object({
    /** Window length in Asia/Shanghai calendar days, ending with the day that contains `at`. */
    windowDays: z.number().int().min(1).max(366),
    /** A device is active with at least this many active days in the window. */
    minActiveDays: z.number().int().min(1).max(366),
    /** A day is active with at least this many distinct online minutes. */
    minOnlineMinutes: z.number().int().min(1).max(1440),
    /** SILENT: no heartbeat in this many hours before `at`. */
    silentAfterHours: z.number().int().min(1).max(24 * 366),
    /** CLOCK_SKEW: mean |device ts − receive time| above this, over at least `skewMinSamples` heartbeats. */
    skewThresholdMs: z.number().int().min(1),
    skewMinSamples: z.number().int().min(1),
    /** SEQ_REPLAY: at least this many repeated or backward sequence numbers within sessions. */
    replayMinCount: z.number().int().min(1),
    /** LOCKSTEP: share (percent) of heartbeats arriving next to the same partners, over at least `lockstepMinHeartbeats`. */
    lockstepMinPercent: z.number().int().min(1).max(100),
    lockstepMinHeartbeats: z.number().int().min(1),
    /** SESSION_TAKEOVER: at least this many take-overs of one device id, from at least two sources. */
    takeoverMinCount: z.number().int().min(1),
    /** EDGE_FABRICATION: judged for edge nodes reporting for at least this many of the contract's devices. */
    edgeMinChildren: z.number().int().min(2),
    /** EDGE_FABRICATION: share (percent) of readings copying a sibling's, over at least `edgeClonedMinMessages`. */
    edgeClonedMinPercent: z.number().int().min(1).max(100),
    edgeClonedMinMessages: z.number().int().min(1),
    /** EDGE_FABRICATION: below this share (percent) of device births and deaths of the devices' own. */
    edgeOwnLifecycleMaxPercent: z.number().int().min(1).max(100),
    /**
     * SHARED_CLOCK (docs/detection.md): a device whose `ts` drift against receive time (fitted over
     * at least `sharedClockMinSamples` heartbeats, standard error at most `sharedClockMaxStderrPpm`)
     * coincides within `sharedClockMatchSigmas` standard errors with at least
     * `sharedClockMinDevices` − 1 other devices of the contract, and lies outside ±`sharedClockZeroBandPpm`
     * (where NTP keeps honest clocks too).
     */
    sharedClockMinSamples: z.number().int().min(3),
    /** …on at least this many days, each with a slope of its own (their spread bounds the error from below). */
    sharedClockMinDays: z.number().int().min(2).max(366),
    sharedClockMaxStderrPpm: z.number().positive().max(1000),
    sharedClockMatchSigmas: z.number().positive().max(100),
    sharedClockZeroBandPpm: z.number().min(0).max(1000),
    sharedClockMinDevices: z.number().int().min(2),
    /**
     * ONE_LIFE: at least `oneLifeMinMoments` moments at which the device and at least
     * `oneLifeMinDevices` − 1 others of the contract were dropped within `oneLifeWindowMs` and each
     * came back within `oneLifeReconnectMinutes`.
     */
    oneLifeWindowMs: z.number().int().min(1).max(60_000),
    oneLifeMinDevices: z.number().int().min(2),
    oneLifeReconnectMinutes: z.number().int().min(1).max(24 * 60),
    oneLifeMinMoments: z.number().int().min(1),
    /** Signals whose devices are not counted as active for the contract. */
    excludingSignals: z.array(fraudSignalCodeSchema),
  })
  .meta({ id: 'ActivityPolicy' });

export type ActivityPolicy = z.infer<typeof activityPolicySchema>;

/** SPEC.md defaults. Cited where they come from; thresholds of signals are this project's choice. */
export const DEFAULT_ACTIVITY_POLICY: Readonly<ActivityPolicy> = Object.freeze({
  windowDays: 30, // SPEC "active device": 30 calendar days ending with the day of `at`
  minActiveDays: 20, // SPEC: at least 20 active days in the window
  minOnlineMinutes: 60, // SPEC: at least 60 distinct online minutes in a day
  silentAfterHours: 24,
  skewThresholdMs: 120_000,
  skewMinSamples: 10,
  replayMinCount: 3,
  lockstepMinPercent: 50,
  lockstepMinHeartbeats: 30,
  takeoverMinCount: 3,
  // Measured on the simulators' edge fleets (npm run detection, docs/detection.md): honest children
  // copied a sibling's readings 0% of the time with 100% own births/deaths; the cloning gateway's
  // 87% (7 of 8 children) and the inventing gateway's 0% own births/deaths.
  edgeMinChildren: 3,
  edgeClonedMinPercent: 50,
  edgeClonedMinMessages: 30,
  edgeOwnLifecycleMaxPercent: 20,
  // Tuned on the seeds `detectionSeeds.tune` of simulators/scenarios/careful.yaml only (docs/detection.md).
  sharedClockMinSamples: 200, // a working week of 5-minute heartbeats
  sharedClockMinDays: 3,
  sharedClockMaxStderrPpm: 0.5, // crystals differ by tens of ppm; a wider error matches strangers
  sharedClockMatchSigmas: 4,
  sharedClockZeroBandPpm: 1, // NTP-disciplined clocks stay well within 1 ppm of UTC
  sharedClockMinDevices: 5,
  oneLifeWindowMs: 500, // a process exit closes its sockets within milliseconds
  oneLifeMinDevices: 5,
  oneLifeReconnectMinutes: 15,
  oneLifeMinMoments: 2,
  // SPEC: "a hardware serial registered under two contracts is flagged and counted for neither"
  excludingSignals: ['DUPLICATE_SERIAL'] as ActivityPolicy['excludingSignals'],
});

/**
 * The policy as a report states it: every parameter used, and whether it differs from the
 * program's default (issue 15: a report under relaxed thresholds must not look like a pass).
 */
export const reportPolicySchema = activityPolicySchema
  .extend({
    /** True when any parameter differs from the program's default policy: a what-if, not the program's verdict. */
    overridden: z.boolean(),
    /** Each parameter that differs, with the value used and the default. */
    overrides: z.array(z.object({ parameter: z.string(), used: z.unknown(), default: z.unknown() })),
  })
  .meta({ id: 'ReportPolicy' });

export type ReportPolicy = z.infer<typeof reportPolicySchema>;

/** `policy` with the parameters that differ from `defaults`, in the schema's order. */
export function describePolicy(policy: ActivityPolicy, defaults: ActivityPolicy): ReportPolicy {
  const overrides: ReportPolicy['overrides'] = [];
  for (const parameter of Object.keys(activityPolicySchema.shape) as (keyof ActivityPolicy)[]) {
    const used = policy[parameter];
    const standard = defaults[parameter];
    if (JSON.stringify(used) !== JSON.stringify(standard)) overrides.push({ parameter, used, default: standard });
  }
  return { ...policy, overridden: overrides.length > 0, overrides };
}

export const policyOverrideSchema = activityPolicySchema.partial();
export type PolicyOverride = z.infer<typeof policyOverrideSchema>;

export function resolvePolicy(base: ActivityPolicy, override: PolicyOverride = {}): ActivityPolicy {
  const merged = { ...base };
  for (const [k, v] of Object.entries(override)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  return activityPolicySchema.parse(merged);
}
