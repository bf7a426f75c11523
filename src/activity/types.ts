/**
 * A device's activity on one Asia/Shanghai day: what the telemetry stores keep and the
 * verifier reads. Activity is stored as minutes, not messages (ARCHITECTURE.md): a device-day is
 * a 1440-bit minute map plus counters. Shared below both, so neither imports the other.
 */
export const MINUTES_PER_DAY = 1440;
export const MINUTE_MAP_BYTES = MINUTES_PER_DAY / 8;

/** One device's activity on one Asia/Shanghai calendar day. */
export interface DeviceDayActivity {
  deviceId: string;
  /** `YYYY-MM-DD`, Asia/Shanghai. */
  day: string;
  /**
   * 180 bytes; bit m (byte m>>3, bit m&7, LSB first) is minute m of the day (0 = 00:00) online.
   * Present on every row unless the query's `minuteMapsFrom` lets a store leave it out of
   * earlier days.
   */
  minuteMap?: Uint8Array;
  /** Online minutes of the day: the set bits of the minute map, kept by the store. */
  onlineMinutes: number;
  heartbeats: number;
  firstSeen: number;
  lastSeen: number;
  lastSeq: number;
  /** Heartbeats that carried a device `ts`, and the sum of |ts − receivedAt| over them (ms). */
  skewSamples: number;
  skewAbsSumMs: number;
  /** Heartbeats flagged `coincident` by the heartbeat admission (lock-step). */
  coincidentHeartbeats: number;
}
