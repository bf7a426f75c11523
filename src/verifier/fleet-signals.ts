import type { ActivityPolicy } from './policy.js';

/**
 * Evidence that needs a device's fleet, not just the device: computed once per contract from
 * what ingest kept, then handed to each device's rules (signals.ts). Pure.
 *
 * - One clock (SHARED_CLOCK): each device's `ts` drifts against the gateway's clock at the rate
 *   error of the clock that stamps it (Kohno, Broido and Claffy, IEEE S&P 2005). Separate
 *   crystals differ by tens of ppm; devices stamped by one host share its drift to within the
 *   fit's error.
 * - One life (ONE_LIFE): a process restart drops every connection it holds in the same instant
 *   and they come back; separate machines, even behind one NAT whose uplink drops, are noticed
 *   gone one by one (each on its own keep-alive) and come back on their own back-off.
 */

/** Clock-drift sums of one device (src/telemetry/evidence.ts ClockSums). */
export interface DriftSums {
  samples: number;
  segments: number;
  sxx: number;
  sxy: number;
  syy: number;
}

export interface DriftEstimate {
  driftPpm: number;
  stderrPpm: number;
  samples: number;
}

/** Slope of the pooled within-segment fit in ppm with its standard error; undefined without enough data. */
export function driftOf(sums: DriftSums): DriftEstimate | undefined {
  const dof = sums.samples - sums.segments - 1;
  if (dof < 1 || !(sums.sxx > 0)) return undefined;
  const slope = sums.sxy / sums.sxx;
  const residual = Math.max(0, sums.syy - slope * sums.sxy) / dof;
  return { driftPpm: slope * 1e6, stderrPpm: Math.sqrt(residual / sums.sxx) * 1e6, samples: sums.samples };
}

/**
 * A device's drift over its days: the pooled fit of all days, its error the larger of the fit's
 * and the day-to-day spread of the per-day slopes (standard error of their mean). The fit's own
 * error assumes independent residuals; an SNTP sawtooth it did not see as steps, or a wandering
 * clock, leaves correlated residuals that make it far too small, and then shows as slopes that
 * change from day to day. A clock is a fingerprint only if its rate holds from day to day.
 */
export function driftOverDays(days: readonly DriftSums[], minDays: number): (DriftEstimate & { days: number }) | undefined {
  const total: DriftSums = { samples: 0, segments: 0, sxx: 0, sxy: 0, syy: 0 };
  const slopes: number[] = [];
  for (const d of days) {
    total.samples += d.samples;
    total.segments += d.segments;
    total.sxx += d.sxx;
    total.sxy += d.sxy;
    total.syy += d.syy;
    const e = driftOf(d);
    if (e) slopes.push(e.driftPpm);
  }
  const pooled = driftOf(total);
  if (!pooled || slopes.length < Math.max(2, minDays)) return undefined;
  const mean = slopes.reduce((a, b) => a + b, 0) / slopes.length;
  const sd = Math.sqrt(slopes.reduce((a, b) => a + (b - mean) ** 2, 0) / (slopes.length - 1));
  return { ...pooled, stderrPpm: Math.max(pooled.stderrPpm, sd / Math.sqrt(slopes.length)), days: slopes.length };
}

export interface SharedClockEvidence extends DriftEstimate {
  /** Days with a slope of their own. */
  days: number;
  /** Devices of the contract (this one included) whose drift coincides with this one's within the error. */
  sameClockDevices: number;
}

/**
 * Per device with a usable estimate (enough samples and days, small error, outside the zero band): how
 * many of the contract's devices coincide with it. Two estimates coincide when they differ by at
 * most `sharedClockMatchSigmas` standard errors of the difference. Clocks within the zero band
 * of the gateway's are left out: NTP keeps honest clocks there too (docs/detection.md).
 */
export function sharedClocks(clockDays: ReadonlyMap<string, readonly DriftSums[]>, policy: ActivityPolicy): Map<string, SharedClockEvidence> {
  const usable: Array<DriftEstimate & { id: string; days: number }> = [];
  for (const [id, days] of clockDays) {
    const e = driftOverDays(days, policy.sharedClockMinDays);
    if (!e || e.samples < policy.sharedClockMinSamples || e.stderrPpm > policy.sharedClockMaxStderrPpm) continue;
    if (Math.abs(e.driftPpm) <= policy.sharedClockZeroBandPpm) continue;
    usable.push({ id, ...e });
  }
  usable.sort((a, b) => a.driftPpm - b.driftPpm);
  const reach = policy.sharedClockMatchSigmas * Math.SQRT2 * policy.sharedClockMaxStderrPpm;
  const result = new Map<string, SharedClockEvidence>();
  for (let i = 0; i < usable.length; i++) {
    const a = usable[i]!;
    let same = 1;
    for (let j = i - 1; j >= 0 && a.driftPpm - usable[j]!.driftPpm <= reach; j--) if (coincide(a, usable[j]!, policy)) same++;
    for (let j = i + 1; j < usable.length && usable[j]!.driftPpm - a.driftPpm <= reach; j++) if (coincide(a, usable[j]!, policy)) same++;
    result.set(a.id, { driftPpm: a.driftPpm, stderrPpm: a.stderrPpm, samples: a.samples, days: a.days, sameClockDevices: same });
  }
  return result;
}

function coincide(a: DriftEstimate, b: DriftEstimate, policy: ActivityPolicy): boolean {
  return Math.abs(a.driftPpm - b.driftPpm) <= policy.sharedClockMatchSigmas * Math.hypot(a.stderrPpm, b.stderrPpm);
}

export interface LifecycleEvent {
  deviceId: string;
  at: number;
  kind: string;
}

export interface OneLifeEvidence {
  /** Moments this device was dropped together with at least `oneLifeMinDevices` − 1 others and came back. */
  moments: number;
  /** Devices dropped in the largest such moment. */
  largestGroup: number;
  /** When (epoch ms), the first few. */
  at: number[];
}

/**
 * Drops that came back: a `disconnect` followed by the device's next `connect` within
 * `oneLifeReconnectMinutes` (a restart, not a power-off). Moments: runs of such drops of
 * distinct devices within `oneLifeWindowMs` of the run's first, at least `oneLifeMinDevices`.
 */
export function sharedLives(events: readonly LifecycleEvent[], policy: ActivityPolicy): Map<string, OneLifeEvidence> {
  const byDevice = new Map<string, LifecycleEvent[]>();
  for (const e of events) {
    let list = byDevice.get(e.deviceId);
    if (!list) byDevice.set(e.deviceId, (list = []));
    list.push(e);
  }
  const drops: Array<{ deviceId: string; at: number }> = [];
  const backWithin = policy.oneLifeReconnectMinutes * 60_000;
  for (const [deviceId, list] of byDevice) {
    list.sort((a, b) => a.at - b.at);
    for (let i = 0; i < list.length; i++) {
      if (list[i]!.kind !== 'disconnect') continue;
      const next = list.slice(i + 1).find((e) => e.kind === 'connect' || e.kind === 'takeover');
      if (next && next.at - list[i]!.at <= backWithin) drops.push({ deviceId, at: list[i]!.at });
    }
  }
  drops.sort((a, b) => a.at - b.at);
  const result = new Map<string, OneLifeEvidence>();
  for (let i = 0; i < drops.length; ) {
    const group = new Set<string>();
    let j = i;
    for (; j < drops.length && drops[j]!.at - drops[i]!.at <= policy.oneLifeWindowMs; j++) group.add(drops[j]!.deviceId);
    if (group.size < policy.oneLifeMinDevices) {
      i++;
      continue;
    }
    for (const id of group) {
      const e = result.get(id) ?? { moments: 0, largestGroup: 0, at: [] };
      e.moments++;
      e.largestGroup = Math.max(e.largestGroup, group.size);
      if (e.at.length < 3) e.at.push(drops[i]!.at);
      result.set(id, e);
    }
    i = j;
  }
  return result;
}
