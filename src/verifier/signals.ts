import type { OneLifeEvidence, SharedClockEvidence } from './fleet-signals.js';
import type { ActivityPolicy } from './policy.js';

import type { SignalCode } from './signal-codes.js';

/**
 * A serial registered under more than one contract. Which registration counts: the one a
 * reviewer assigned it to, else the earliest registration (SPEC rule 14, README "Policy"): a
 * supplier registering someone else's serial later cannot knock the original device out.
 * Other contracts are never named here (no report shows one supplier another's contract ids).
 */
export interface DuplicateSerialFacts {
  registrations: number;
  countedHere: boolean;
  basis: 'earliest-registration' | 'reviewer';
}

export interface Signal {
  code: SignalCode;
  severity: 'high' | 'medium' | 'low';
  message: string;
  /** The numbers that triggered it, next to the thresholds they crossed. */
  data: Record<string, number | string | string[]>;
}

/** Per-device evidence aggregated over the window, the input of every signal rule. */
export interface DeviceEvidence {
  serial: string;
  duplicate?: DuplicateSerialFacts | undefined;
  heartbeats: number;
  lastSeen: number | null;
  skewSamples: number;
  skewAbsSumMs: number;
  coincidentHeartbeats: number;
  replays: number;
  takeovers: number;
  sources: string[];
  /** This device's clock drift and how many of the contract's devices share it (fleet-signals.ts). */
  sharedClock?: SharedClockEvidence;
  /** Moments this device was dropped and came back together with others of the contract. */
  oneLife?: OneLifeEvidence;
}

/** Each rule: evidence + policy + at → a signal or nothing. Pure, in one table. */
const RULES: ReadonlyArray<(e: DeviceEvidence, p: ActivityPolicy, at: number) => Signal | undefined> = [
  (e) =>
    e.duplicate
      ? {
          code: 'DUPLICATE_SERIAL',
          severity: 'high',
          message: `serial ${e.serial} is registered under ${e.duplicate.registrations} contracts; ${
            e.duplicate.countedHere ? 'counted here' : 'not counted here'
          } (${e.duplicate.basis === 'reviewer' ? "a reviewer's assignment" : 'the earliest registration counts until a reviewer assigns it'})`,
          data: { serial: e.serial, registrations: e.duplicate.registrations, countedHere: e.duplicate.countedHere ? 'yes' : 'no', basis: e.duplicate.basis },
        }
      : undefined,
  (e, p) => {
    if (e.skewSamples < p.skewMinSamples) return undefined;
    const meanAbsSkewMs = Math.round(e.skewAbsSumMs / e.skewSamples);
    return meanAbsSkewMs > p.skewThresholdMs
      ? {
          code: 'CLOCK_SKEW',
          severity: 'medium',
          message: `device clock is on average ${Math.round(meanAbsSkewMs / 1000)} s away from receive time`,
          data: { meanAbsSkewMs, samples: e.skewSamples, thresholdMs: p.skewThresholdMs },
        }
      : undefined;
  },
  (e, p) =>
    e.replays >= p.replayMinCount
      ? {
          code: 'SEQ_REPLAY',
          severity: 'high',
          message: `${e.replays} heartbeats repeated or went back in sequence within a session`,
          data: { replays: e.replays, threshold: p.replayMinCount },
        }
      : undefined,
  (e, p) => {
    if (e.heartbeats < p.lockstepMinHeartbeats) return undefined;
    const percent = Math.floor((e.coincidentHeartbeats * 100) / e.heartbeats);
    return percent >= p.lockstepMinPercent
      ? {
          code: 'LOCKSTEP',
          severity: 'high',
          message: `${percent}% of heartbeats arrived together with the same other devices from one source`,
          data: { coincidentHeartbeats: e.coincidentHeartbeats, heartbeats: e.heartbeats, percent, thresholdPercent: p.lockstepMinPercent },
        }
      : undefined;
  },
  (e, p) =>
    e.takeovers >= p.takeoverMinCount && e.sources.length >= 2
      ? {
          code: 'SESSION_TAKEOVER',
          severity: 'high',
          message: `device id taken over ${e.takeovers} times, from ${e.sources.length} addresses`,
          data: { takeovers: e.takeovers, sources: e.sources, threshold: p.takeoverMinCount },
        }
      : undefined,
  (e, p) => {
    const c = e.sharedClock;
    if (!c || c.sameClockDevices < p.sharedClockMinDevices) return undefined;
    const ppm = (x: number) => Math.round(x * 1000) / 1000;
    return {
      code: 'SHARED_CLOCK',
      severity: 'high',
      message: `device clock drifts ${ppm(c.driftPpm)} ± ${ppm(c.stderrPpm)} ppm against the gateway's, the same as ${c.sameClockDevices - 1} other devices of this contract: one clock stamps them all`,
      data: {
        driftPpm: ppm(c.driftPpm),
        stderrPpm: ppm(c.stderrPpm),
        samples: c.samples,
        days: c.days,
        sameClockDevices: c.sameClockDevices,
        thresholdDevices: p.sharedClockMinDevices,
        matchSigmas: p.sharedClockMatchSigmas,
        zeroBandPpm: p.sharedClockZeroBandPpm,
      },
    };
  },
  (e, p) => {
    const l = e.oneLife;
    if (!l || l.moments < p.oneLifeMinMoments) return undefined;
    return {
      code: 'ONE_LIFE',
      severity: 'high',
      message: `${l.moments} times dropped within ${p.oneLifeWindowMs} ms together with other devices of this contract (up to ${l.largestGroup} at once), each back within ${p.oneLifeReconnectMinutes} min: one process restarting`,
      data: {
        moments: l.moments,
        largestGroup: l.largestGroup,
        firstMoments: l.at.map((t) => new Date(t).toISOString()),
        thresholdMoments: p.oneLifeMinMoments,
        windowMs: p.oneLifeWindowMs,
      },
    };
  },
  (e) =>
    e.heartbeats === 0
      ? { code: 'NEVER_SEEN', severity: 'medium', message: 'no accepted heartbeat in the window', data: { heartbeats: 0 } }
      : undefined,
  (e, p, at) => {
    if (e.lastSeen === null) return undefined;
    const silentMs = at - e.lastSeen;
    return silentMs > p.silentAfterHours * 3600_000
      ? {
          code: 'SILENT',
          severity: 'low',
          message: `no heartbeat for ${Math.floor(silentMs / 3600_000)} h`,
          data: { silentHours: Math.floor(silentMs / 3600_000), thresholdHours: p.silentAfterHours },
        }
      : undefined;
  },
];

export function deviceSignals(evidence: DeviceEvidence, policy: ActivityPolicy, at: number): Signal[] {
  const signals: Signal[] = [];
  for (const rule of RULES) {
    const s = rule(evidence, policy, at);
    if (s) signals.push(s);
  }
  return signals;
}
