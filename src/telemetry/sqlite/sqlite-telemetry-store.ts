import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { migrate, type SqliteDb } from '../../db/sqlite.js';
import { coalesce, type DayAccumulator } from '../day-accumulator.js';
import { DAY_MS, SHANGHAI_OFFSET_MS, shanghaiDay } from '../../time/shanghai.js';
import { MINUTE_MAP_BYTES, type ActivityOptions, type DeviceDayActivity, type Heartbeat, type StoreHealth, type TelemetryStore } from '../types.js';
import { countMinutes, orInto } from '../../activity/index.js';
import { DAY_COUNTER_FIELDS, DAY_COUNTERS_BYTES, decodeDayCounters, encodeDayCounters, viewOf } from './day-counters.js';
import { telemetryMigrations } from './schema.js';
import { activityDayRange } from '../activity-range.js';

export interface SqliteTelemetryStoreOptions {
  /** The gateway's shared database, opened with `openDatabase` (WAL, synchronous=FULL). Not closed by the store. */
  db: SqliteDb;
  log?: Logger;
  /** Keep raw heartbeats as evidence for this many days (0 = off, the default). */
  rawRetentionDays?: number;
  /**
   * How many device-day rows to keep in memory so a hot device's row is not re-read on every
   * batch (default 20,000; 0 disables). Rows enter the cache only after their transaction
   * commits, so the cache never holds anything the file does not. Assumes this store is the
   * only writer of telemetry rows in the file (one gateway process per file).
   */
  rowCacheSize?: number;
}

export interface RawHeartbeatRow {
  deviceId: string;
  receivedAt: number;
  seq: number;
  deviceTs: number | null;
  status: string | null;
  metrics: Record<string, number> | null;
  source: string;
  coincident: boolean;
}

export interface SqliteTelemetryStore extends TelemetryStore {
  readonly kind: 'sqlite';
  /** Deletes raw heartbeats older than the retention; returns how many. No-op when retention is off. */
  prune(nowMs: number): number;
  /** Raw heartbeats of one device with fromMs ≤ receivedAt ≤ toMs, oldest first (empty when retention is off). */
  rawHeartbeats(deviceId: string, fromMs: number, toMs: number, limit?: number): RawHeartbeatRow[];
}

/** A stored device-day row as it is written and cached: an accumulator without its key. */
type DayRow = Omit<DayAccumulator, 'deviceId' | 'dayNumber'>;

interface DbDayRow {
  minute_map: Uint8Array;
  counters: Uint8Array;
}

/** Devices per activity query: bounds the JSON and blob one statement builds (1,000 × 30 days ≈ 5.4 MB of maps). */
const ACTIVITY_CHUNK = 1000;

/**
 * The embedded TelemetryStore: per device per Asia/Shanghai day a 1440-bit minute map plus
 * counters, in the gateway's shared SQLite file. better-sqlite3 is synchronous, so `append`
 * has committed (and, with synchronous=FULL, fsynced the WAL) by the time its promise settles.
 */
export function createSqliteTelemetryStore(options: SqliteTelemetryStoreOptions): SqliteTelemetryStore {
  const { db } = options;
  const log = (options.log ?? silentLogger).child({ component: 'telemetry-sqlite' });
  const rawRetentionDays = options.rawRetentionDays ?? 0;
  if (!Number.isInteger(rawRetentionDays) || rawRetentionDays < 0) {
    throw new RangeError(`rawRetentionDays must be a non-negative integer, got ${rawRetentionDays}`);
  }
  const rowCacheSize = options.rowCacheSize ?? 20_000;

  migrate(db, 'telemetry', telemetryMigrations);

  // Prepared once; reused for every batch and query.
  const selectDeviceKey = db.prepare<[string], { device_key: number }>(
    'SELECT device_key FROM telemetry_device WHERE device_id = ?',
  );
  const insertDevice = db.prepare<[string], { device_key: number }>(
    'INSERT INTO telemetry_device (device_id) VALUES (?) RETURNING device_key',
  );
  const selectDay = db.prepare<[number, number], DbDayRow>(
    'SELECT minute_map, counters FROM telemetry_device_day WHERE device_key = ? AND day_number = ?',
  );
  const upsertDay = db.prepare<[number, number, Uint8Array, Uint8Array]>(
    `INSERT INTO telemetry_device_day (day_number, device_key, minute_map, counters) VALUES (?, ?, ?, ?)
     ON CONFLICT (day_number, device_key) DO UPDATE SET minute_map = excluded.minute_map, counters = excluded.counters`,
  );
  // One statement per chunk of devices and only two values back, because better-sqlite3 spends
  // most of a row's cost converting columns (a Buffer per blob, an object per row): the rows'
  // fixed-width counter records (day-counters.ts, which carry their own keys) concatenated into
  // one buffer, and the minute maps of the days from the first parameter on, concatenated in the
  // same row order (group_concat skips the NULLs of earlier days, whose online minutes are all a
  // verification needs). Both aggregates step once per row in the same pass, so their orders
  // agree. Both keys are given as lists, so the plan is one primary-key seek per (day, device)
  // pair: a day range (BETWEEN) would scan every device's row of each day, however few were
  // asked — measured 9× slower for a 100-device contract in a 20,000-device fleet.
  const selectActivity = db.prepare<[number, string, string], [Uint8Array | null, Uint8Array | null]>(
    `SELECT CAST(group_concat(counters, '') AS BLOB),
            CAST(group_concat(CASE WHEN day_number >= ? THEN minute_map END, '') AS BLOB)
       FROM telemetry_device_day
      WHERE day_number IN (SELECT value FROM json_each(?)) AND device_key IN (SELECT value FROM json_each(?))`,
  ).raw(true);
  const insertRaw = db.prepare<[number, number, number, number | null, string | null, string | null, string, number]>(
    `INSERT INTO telemetry_heartbeat (device_key, received_at, seq, device_ts, status, metrics, source, coincident)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const deleteRawBefore = db.prepare<[number]>('DELETE FROM telemetry_heartbeat WHERE received_at < ?');
  const selectRaw = db.prepare<
    [number, number, number, number],
    { received_at: number; seq: number; device_ts: number | null; status: string | null; metrics: string | null; source: string; coincident: number }
  >(
    `SELECT received_at, seq, device_ts, status, metrics, source, coincident FROM telemetry_heartbeat
      WHERE device_key = ? AND received_at BETWEEN ? AND ? ORDER BY received_at, rowid LIMIT ?`,
  );

  /** deviceId → device_key for keys known to be committed. */
  const deviceKeys = new Map<string, number>();
  /** `${device_key}:${day_number}` → committed row; a Map iterates in insertion order, so the first key is the oldest. */
  const rowCache = new Map<string, DayRow>();
  let closed = false;

  function committedKeyOf(deviceId: string): number | undefined {
    const cached = deviceKeys.get(deviceId);
    if (cached !== undefined) return cached;
    const row = selectDeviceKey.get(deviceId);
    if (row === undefined) return undefined;
    deviceKeys.set(deviceId, row.device_key);
    return row.device_key;
  }

  function cacheRow(cacheKey: string, row: DayRow): void {
    if (rowCacheSize === 0) return;
    rowCache.delete(cacheKey); // re-insert as the newest
    rowCache.set(cacheKey, row);
    if (rowCache.size > rowCacheSize) {
      const oldest = rowCache.keys().next().value;
      if (oldest !== undefined) rowCache.delete(oldest);
    }
  }

  /** Writes the coalesced batch; returns what to publish to the in-memory caches on commit. */
  const writeBatch = db.transaction((accumulators: DayAccumulator[], raw: readonly Heartbeat[] | null) => {
    const newKeys = new Map<string, number>();
    const written: Array<[string, DayRow]> = [];
    const keyOf = (deviceId: string): number => {
      const known = newKeys.get(deviceId) ?? committedKeyOf(deviceId);
      if (known !== undefined) return known;
      const inserted = insertDevice.get(deviceId)!.device_key;
      newKeys.set(deviceId, inserted);
      return inserted;
    };

    for (const acc of accumulators) {
      const deviceKey = keyOf(acc.deviceId);
      const cacheKey = `${deviceKey}:${acc.dayNumber}`;
      const existing = rowCache.get(cacheKey) ?? fromDb(selectDay.get(deviceKey, acc.dayNumber));
      const merged = existing === undefined ? accumulatorRow(acc) : mergeRows(existing, acc);
      upsertDay.run(
        acc.dayNumber,
        deviceKey,
        merged.minuteMap,
        encodeDayCounters({ ...merged, deviceKey, dayNumber: acc.dayNumber, onlineMinutes: countMinutes(merged.minuteMap) }),
      );
      written.push([cacheKey, merged]);
    }

    if (raw !== null) {
      for (const hb of raw) {
        insertRaw.run(
          keyOf(hb.deviceId),
          hb.receivedAt,
          hb.seq,
          isFiniteNumber(hb.deviceTs) ? hb.deviceTs : null,
          hb.status ?? null,
          hb.metrics === undefined ? null : JSON.stringify(hb.metrics),
          hb.source,
          hb.coincident ? 1 : 0,
        );
      }
    }
    return { newKeys, written };
  });

  function appendSync(batch: readonly Heartbeat[]): void {
    if (closed) throw new Error('telemetry store is closed');
    if (batch.length === 0) return;
    const accumulators = coalesce(batch);
    let result: ReturnType<typeof writeBatch>;
    try {
      result = writeBatch(accumulators, rawRetentionDays > 0 ? batch : null);
    } catch (err) {
      // Rolled back: nothing of this batch is in the file, so nothing of it may enter the caches.
      log.error({ err, size: batch.length }, 'telemetry batch failed; rolled back');
      throw err;
    }
    for (const [deviceId, key] of result.newKeys) deviceKeys.set(deviceId, key);
    for (const [cacheKey, row] of result.written) cacheRow(cacheKey, row);
  }

  function dailyActivitySync(deviceIds: readonly string[], fromDay: string, toDay: string, options: ActivityOptions): DeviceDayActivity[] {
    const { fromNumber, toNumber, mapsFromNumber } = activityDayRange(fromDay, toDay, options);
    const dayNumbers: number[] = [];
    for (let dayNumber = fromNumber; dayNumber <= toNumber; dayNumber++) dayNumbers.push(dayNumber);
    const dayNumbersJson = JSON.stringify(dayNumbers);
    const out: DeviceDayActivity[] = [];
    if (fromNumber > toNumber) return out;

    // Rows are ordered by deviceId (JS string order), then day.
    const ids = [...new Set(deviceIds)].sort(compareStrings);
    const dayStrings = new Map<number, string>();
    const dayString = (dayNumber: number): string => {
      let day = dayStrings.get(dayNumber);
      if (day === undefined) {
        day = shanghaiDay(dayNumber * DAY_MS - SHANGHAI_OFFSET_MS);
        dayStrings.set(dayNumber, day);
      }
      return day;
    };
    for (let start = 0; start < ids.length; start += ACTIVITY_CHUNK) {
      const chunkIds = ids.slice(start, start + ACTIVITY_CHUNK);
      const chunkKeys: number[] = [];
      for (const deviceId of chunkIds) {
        const deviceKey = committedKeyOf(deviceId);
        if (deviceKey !== undefined) chunkKeys.push(deviceKey);
      }
      if (chunkKeys.length === 0) continue;
      const [counters, maps] = selectActivity.get(mapsFromNumber, dayNumbersJson, JSON.stringify(chunkKeys))!;
      if (counters === null) continue;
      const view = viewOf(counters);
      const rowCount = counters.byteLength / DAY_COUNTERS_BYTES;
      const keyOfRow = (r: number): number => view.getUint32(r * DAY_COUNTERS_BYTES + DAY_COUNTER_FIELDS.deviceKey, true);
      const dayOfRow = (r: number): number => view.getUint16(r * DAY_COUNTERS_BYTES + DAY_COUNTER_FIELDS.dayNumber, true);
      // Group row indexes by device (emitted in id order, each device's days in order), and note
      // where each mapped row's minute map starts in the concatenated blob.
      const rowsOfKey = new Map<number, number[]>();
      const mapStart = new Int32Array(rowCount).fill(-1);
      let mapped = 0;
      for (let r = 0; r < rowCount; r++) {
        const deviceKey = keyOfRow(r);
        const rows = rowsOfKey.get(deviceKey);
        if (rows === undefined) rowsOfKey.set(deviceKey, [r]);
        else rows.push(r);
        if (dayOfRow(r) >= mapsFromNumber) mapStart[r] = MINUTE_MAP_BYTES * mapped++;
      }
      if ((maps?.byteLength ?? 0) !== mapped * MINUTE_MAP_BYTES) {
        throw new Error(`telemetry activity query returned ${maps?.byteLength ?? 0} map bytes for ${mapped} mapped rows`);
      }
      for (const deviceId of chunkIds) {
        const deviceKey = committedKeyOf(deviceId);
        const rows = deviceKey === undefined ? undefined : rowsOfKey.get(deviceKey);
        if (rows === undefined) continue;
        if (!isSortedBy(rows, dayOfRow)) rows.sort((a, b) => dayOfRow(a) - dayOfRow(b));
        for (const r of rows) {
          const c = decodeDayCounters(view, r * DAY_COUNTERS_BYTES);
          const row: DeviceDayActivity = {
            deviceId,
            day: dayString(c.dayNumber),
            onlineMinutes: c.onlineMinutes,
            heartbeats: c.heartbeats,
            firstSeen: c.firstSeen,
            lastSeen: c.lastSeen,
            lastSeq: c.lastSeq,
            skewSamples: c.skewSamples,
            skewAbsSumMs: c.skewAbsSumMs,
            coincidentHeartbeats: c.coincident,
          };
          if (mapStart[r]! >= 0) row.minuteMap = new Uint8Array(maps!.buffer, maps!.byteOffset + mapStart[r]!, MINUTE_MAP_BYTES);
          out.push(row);
        }
      }
    }
    return out;
  }

  return {
    kind: 'sqlite',
    append(batch) {
      try {
        appendSync(batch);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    },
    dailyActivity(deviceIds, fromDay, toDay, options = {}) {
      try {
        return Promise.resolve(dailyActivitySync(deviceIds, fromDay, toDay, options));
      } catch (err) {
        return Promise.reject(err);
      }
    },
    health(): StoreHealth {
      if (closed) return { status: 'degraded', detail: 'telemetry store closed' };
      if (!db.open) return { status: 'degraded', detail: 'database closed' };
      return { status: 'ok' };
    },
    prune(nowMs) {
      if (rawRetentionDays === 0) return 0;
      return deleteRawBefore.run(nowMs - rawRetentionDays * DAY_MS).changes;
    },
    rawHeartbeats(deviceId, fromMs, toMs, limit = 10_000) {
      const deviceKey = committedKeyOf(deviceId);
      if (deviceKey === undefined) return [];
      return selectRaw.all(deviceKey, fromMs, toMs, limit).map((row) => ({
        deviceId,
        receivedAt: row.received_at,
        seq: row.seq,
        deviceTs: row.device_ts,
        status: row.status,
        metrics: row.metrics === null ? null : (JSON.parse(row.metrics) as Record<string, number>),
        source: row.source,
        coincident: row.coincident !== 0,
      }));
    },
    close() {
      // The database belongs to the caller (openDatabase in main.ts); only forget our caches.
      closed = true;
      rowCache.clear();
      deviceKeys.clear();
      return Promise.resolve();
    },
  };
}

function accumulatorRow(acc: DayAccumulator): DayRow {
  return {
    minuteMap: acc.minuteMap,
    heartbeats: acc.heartbeats,
    firstSeen: acc.firstSeen,
    lastSeen: acc.lastSeen,
    lastSeq: acc.lastSeq,
    skewSamples: acc.skewSamples,
    skewAbsSumMs: acc.skewAbsSumMs,
    coincident: acc.coincident,
  };
}

/** The stored row plus the batch's part of the same device-day; a new object, the stored one is not touched. */
function mergeRows(stored: DayRow, acc: DayAccumulator): DayRow {
  const laterWins = acc.lastSeen >= stored.lastSeen; // the batch arrived after what is stored
  return {
    minuteMap: orInto(acc.minuteMap, stored.minuteMap),
    heartbeats: stored.heartbeats + acc.heartbeats,
    firstSeen: Math.min(stored.firstSeen, acc.firstSeen),
    lastSeen: laterWins ? acc.lastSeen : stored.lastSeen,
    lastSeq: laterWins ? acc.lastSeq : stored.lastSeq,
    skewSamples: stored.skewSamples + acc.skewSamples,
    skewAbsSumMs: stored.skewAbsSumMs + acc.skewAbsSumMs,
    coincident: stored.coincident + acc.coincident,
  };
}

function fromDb(row: DbDayRow | undefined): DayRow | undefined {
  if (row === undefined) return undefined;
  const { deviceKey: _key, dayNumber: _day, onlineMinutes: _online, ...counters } = decodeDayCounters(viewOf(row.counters));
  return { minuteMap: row.minute_map, ...counters };
}

function isSortedBy(rows: readonly number[], key: (row: number) => number): boolean {
  for (let i = 1; i < rows.length; i++) if (key(rows[i]!) < key(rows[i - 1]!)) return false;
  return true;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
