import { shanghaiDayNumber, shanghaiMinuteOfDay } from '../time/shanghai.js';
import { MINUTE_MAP_BYTES, type Heartbeat } from './types.js';

/**
 * How one heartbeat counts towards its device-day — the one definition both stores use, so
 * SQLite and InfluxDB give the verifier the same rows. Day and minute come from the gateway's
 * receive time only (SPEC: devices can lie); the device ts only feeds the skew sum. On equal
 * receive times the later heartbeat supplies lastSeq.
 */
export interface DayAccumulator {
  deviceId: string;
  /** Days since 1970-01-01, Asia/Shanghai. */
  dayNumber: number;
  minuteMap: Uint8Array;
  heartbeats: number;
  firstSeen: number;
  lastSeen: number;
  lastSeq: number;
  skewSamples: number;
  skewAbsSumMs: number;
  coincident: number;
}

/** Shanghai day number and minute of day of a receive time. */
export function dayAndMinute(receivedAt: number): { dayNumber: number; minute: number } {
  return { dayNumber: shanghaiDayNumber(receivedAt), minute: shanghaiMinuteOfDay(receivedAt) };
}

export function emptyDay(hb: Heartbeat, dayNumber: number): DayAccumulator {
  return {
    deviceId: hb.deviceId,
    dayNumber,
    minuteMap: new Uint8Array(MINUTE_MAP_BYTES),
    heartbeats: 0,
    firstSeen: hb.receivedAt,
    lastSeen: hb.receivedAt,
    lastSeq: hb.seq,
    skewSamples: 0,
    skewAbsSumMs: 0,
    coincident: 0,
  };
}

export function foldHeartbeat(acc: DayAccumulator, hb: Heartbeat, minute: number): void {
  acc.minuteMap[minute >> 3]! |= 1 << (minute & 7);
  acc.heartbeats += 1;
  if (hb.receivedAt < acc.firstSeen) acc.firstSeen = hb.receivedAt;
  if (hb.receivedAt >= acc.lastSeen) {
    acc.lastSeen = hb.receivedAt;
    acc.lastSeq = hb.seq;
  }
  if (typeof hb.deviceTs === 'number' && Number.isFinite(hb.deviceTs)) {
    acc.skewSamples += 1;
    acc.skewAbsSumMs += Math.abs(Math.round(hb.deviceTs - hb.receivedAt));
  }
  if (hb.coincident) acc.coincident += 1;
}

/**
 * Folds a batch into one accumulator per (device, Shanghai day). Day and minute come from the
 * gateway's receive time only (SPEC: devices can lie); the device ts only feeds the skew sum.
 * On equal receive times the later heartbeat in the batch supplies lastSeq, matching what
 * one-at-a-time appends would store.
 */
export function coalesce(batch: readonly Heartbeat[]): DayAccumulator[] {
  const byDeviceDay = new Map<string, DayAccumulator>();
  for (const hb of batch) {
    if (typeof hb.receivedAt !== 'number' || !Number.isFinite(hb.receivedAt)) throw new TypeError(`heartbeat of ${hb.deviceId} has no finite receivedAt`);
    const { dayNumber, minute } = dayAndMinute(hb.receivedAt);
    const key = `${dayNumber}|${hb.deviceId}`;
    let acc = byDeviceDay.get(key);
    if (acc === undefined) byDeviceDay.set(key, (acc = emptyDay(hb, dayNumber)));
    foldHeartbeat(acc, hb, minute);
  }
  return [...byDeviceDay.values()];
}
