/**
 * Device-day rollups written next to the raw heartbeats, pure.
 *
 * Why: computing activity from raw points at query time was measured too slow for the
 * verifier's 1,000 devices × 30 days (bench/verify-influx.ts: ~4.4 s for 1.95 M points on
 * 1.6.7 — InfluxDB must decode and serialise every point; a `GROUP BY time(1m) tz(…)` count
 * was slower still). So, as ARCHITECTURE.md asks of every store, activity is also kept as
 * minutes, not messages: per (device, Shanghai day) one point in measurement `activity`
 * holding the 180-byte minute map (base64) and the counters, cumulative, rewritten with
 * every batch that touches that device-day. Reading 1,000 × 30 is then ~30,000 rows.
 *
 * A point's identity is series + timestamp, and a rewrite replaces its fields. Each writer
 * generation (a store instance; a device-day re-created after eviction from memory) writes
 * its own point at `dayStart + offset ns`, with an offset unique to it, so no writer ever
 * overwrites another's snapshot; readers merge all points of a device-day (OR the maps, add
 * the counters). Several gateway nodes sharing one InfluxDB therefore stay exact too.
 * Snapshots are planned from the committed state plus a batch and committed only after
 * InfluxDB acknowledged the write that carried them (one writer at a time, in order).
 */
import { dayAndMinute, emptyDay, foldHeartbeat, type DayAccumulator } from '../day-accumulator.js';
import { DAY_MS, SHANGHAI_OFFSET_MS } from '../../time/shanghai.js';
import { MINUTE_MAP_BYTES, type DeviceDayActivity, type Heartbeat } from '../types.js';
import { finishRows, type RowInProgress } from './activity.js';
import { nsTimestamp } from './points.js';

export const ACTIVITY_MEASUREMENT = 'activity';

const NS_PER_MS = 1_000_000n;
const DAY_NS = BigInt(DAY_MS) * NS_PER_MS;

export interface DayRollup extends DayAccumulator {
  /** Nanoseconds after the day's start this generation's point is written at. */
  offsetNs: bigint;
  /** The point's timestamp (day start + offsetNs), ns as a decimal string; fixed per generation. */
  timestampNs: string;
}

export class RollupState {
  readonly #committed = new Map<string, DayRollup>();
  #nextOffset: bigint;

  /**
   * @param startedAtMs when this writer started (offsets begin at its time of day, so two
   *   generations started at different milliseconds never share one)
   * @param maxEntries device-days kept in memory; older ones start a new generation if touched again
   */
  constructor(startedAtMs: number, readonly maxEntries = 50_000, randomNs = Math.floor(Math.random() * 1_000_000)) {
    this.#nextOffset = ((BigInt(startedAtMs) % BigInt(DAY_MS)) * NS_PER_MS + BigInt(randomNs)) % DAY_NS;
  }

  get size(): number {
    return this.#committed.size;
  }

  /** New snapshots of every device-day the batch touches; nothing is committed yet. */
  plan(batch: readonly Heartbeat[]): DayRollup[] {
    const next = new Map<string, DayRollup>();
    for (const hb of batch) {
      const { dayNumber, minute } = dayAndMinute(hb.receivedAt);
      const key = `${hb.deviceId}|${dayNumber}`;
      let r = next.get(key);
      if (r === undefined) {
        const committed = this.#committed.get(key);
        // A copy to fold the batch into; the committed snapshot stays as it was until the write succeeds.
        r = committed ? { ...committed, minuteMap: committed.minuteMap.slice() } : newGeneration(emptyDay(hb, dayNumber), this.#takeOffset());
        next.set(key, r);
      }
      foldHeartbeat(r, hb, minute);
    }
    return [...next.values()];
  }

  /** Makes acknowledged snapshots the base of the next plan. */
  commit(rollups: readonly DayRollup[]): void {
    for (const r of rollups) {
      const key = `${r.deviceId}|${r.dayNumber}`;
      this.#committed.delete(key); // re-insert: Map order is least recently written first
      this.#committed.set(key, r);
    }
    while (this.#committed.size > this.maxEntries) {
      const oldest = this.#committed.keys().next().value as string;
      this.#committed.delete(oldest);
    }
  }

  #takeOffset(): bigint {
    const offset = this.#nextOffset;
    this.#nextOffset = (this.#nextOffset + 1n) % DAY_NS;
    return offset;
  }
}

function newGeneration(day: DayAccumulator, offsetNs: bigint): DayRollup {
  const dayStartMs = day.dayNumber * DAY_MS - SHANGHAI_OFFSET_MS;
  return { ...day, offsetNs, timestampNs: (BigInt(nsTimestamp(dayStartMs, 0)) + offsetNs).toString() };
}


/** One stored rollup point as the activity query returns it (epoch=ms). */
export interface RollupRow {
  deviceId: string;
  time: number;
  minuteMap: string;
  heartbeats: number;
  firstSeen: number;
  lastSeen: number;
  lastSeq: number;
  skewSamples: number;
  skewAbsSumMs: number;
  coincident: number;
}

/**
 * Merges rollup points (several generations per device-day) into activity rows ordered by
 * device then day. The last seen heartbeat's seq wins; on equal lastSeen the later row
 * (later generation) wins, as a later append would in SQLite.
 */
export function mergeRollups(rows: Iterable<RollupRow>): DeviceDayActivity[] {
  const merged = new Map<string, RowInProgress>();
  for (const row of rows) {
    const dayNumber = Math.floor((row.time + SHANGHAI_OFFSET_MS) / DAY_MS);
    const key = `${row.deviceId}|${dayNumber}`;
    const map = Buffer.from(row.minuteMap, 'base64');
    const existing = merged.get(key);
    if (existing === undefined) {
      const minuteMap = new Uint8Array(MINUTE_MAP_BYTES);
      minuteMap.set(map.subarray(0, MINUTE_MAP_BYTES));
      merged.set(key, {
        deviceId: row.deviceId,
        day: new Date(dayNumber * DAY_MS).toISOString().slice(0, 10),
        dayNumber,
        minuteMap,
        heartbeats: row.heartbeats,
        firstSeen: row.firstSeen,
        lastSeen: row.lastSeen,
        lastSeq: row.lastSeq,
        skewSamples: row.skewSamples,
        skewAbsSumMs: row.skewAbsSumMs,
        coincidentHeartbeats: row.coincident,
      });
      continue;
    }
    for (let i = 0; i < MINUTE_MAP_BYTES && i < map.length; i++) existing.minuteMap[i]! |= map[i]!;
    existing.heartbeats += row.heartbeats;
    existing.firstSeen = Math.min(existing.firstSeen, row.firstSeen);
    if (row.lastSeen >= existing.lastSeen) {
      existing.lastSeen = row.lastSeen;
      existing.lastSeq = row.lastSeq;
    }
    existing.skewSamples += row.skewSamples;
    existing.skewAbsSumMs += row.skewAbsSumMs;
    existing.coincidentHeartbeats += row.coincident;
  }
  return finishRows(merged.values());
}
