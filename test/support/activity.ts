import { MINUTE_MAP_BYTES, type DeviceDayActivity } from '../../src/telemetry/types.js';
import { shanghaiDayStart } from '../../src/time/shanghai.js';

/** Builds one device-day with the given minutes (0..1439) online, one heartbeat per minute. */
export function buildDeviceDay(overrides: Partial<DeviceDayActivity> & { deviceId: string; day: string; minutes?: number[] }): DeviceDayActivity {
  const minutes = overrides.minutes ?? range(0, 60);
  const map = new Uint8Array(MINUTE_MAP_BYTES);
  for (const m of minutes) map[m >> 3]! |= 1 << (m & 7);
  const start = shanghaiDayStart(overrides.day);
  const { minutes: _m, ...rest } = overrides;
  return {
    minuteMap: map,
    onlineMinutes: new Set(minutes).size,
    heartbeats: minutes.length,
    firstSeen: start + Math.min(...minutes) * 60_000,
    lastSeen: start + Math.max(...minutes) * 60_000,
    lastSeq: minutes.length,
    skewSamples: 0,
    skewAbsSumMs: 0,
    coincidentHeartbeats: 0,
    ...rest,
  };
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
