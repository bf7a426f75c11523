import type { Migration } from '../../db/sqlite.js';
import { countMinutes } from '../../activity/index.js';
import { DAY_COUNTERS_BYTES, encodeDayCounters } from './day-counters.js';

/**
 * Telemetry tables in the gateway's one SQLite file (component 'telemetry').
 *
 * - `telemetry_device` maps the text device id to a small integer key, so each device-day row
 *   carries 1–3 key bytes instead of the whole id.
 * - `telemetry_device_day` is one row per device per Asia/Shanghai day (ARCHITECTURE.md:
 *   activity is stored as minutes, not messages). WITHOUT ROWID, so the row lives in the
 *   primary-key b-tree and there is no second b-tree for a rowid. Clustered day first,
 *   (day_number, device_key): every commit updates today's rows, which then sit together on a
 *   few pages, so a batch of 2,000 heartbeats rewrites tens of pages into the WAL instead of one
 *   page per device (device first measured 3.4× slower to append once a month of days had
 *   accumulated, at the same size on disk). Reads give both key lists, one seek per device-day.
 *   `day_number` is days since 1970-01-01 Shanghai (`shanghaiDayNumber`), 2 bytes on disk
 *   instead of a 10-byte text day. Since migration 3 the counters (online minutes, heartbeats,
 *   first/last seen as gateway receive times, last seq, skew, coincident) are one fixed-width
 *   blob (`day-counters.ts`) beside the minute map. Measured ≈ 260 bytes on disk per device-day
 *   (`npm run bench -- storage`).
 * - `telemetry_heartbeat` holds raw heartbeats only when a retention is configured: evidence,
 *   never the basis of counting.
 */
export const telemetryMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'device keys, per-device-day minute maps, optional raw heartbeats',
    up: `
      CREATE TABLE telemetry_device (
        device_key INTEGER PRIMARY KEY,
        device_id  TEXT NOT NULL UNIQUE
      );
      CREATE TABLE telemetry_device_day (
        day_number      INTEGER NOT NULL,
        device_key      INTEGER NOT NULL,
        minute_map      BLOB    NOT NULL CHECK (length(minute_map) = 180),
        heartbeats      INTEGER NOT NULL,
        first_seen      INTEGER NOT NULL,
        last_seen       INTEGER NOT NULL,
        last_seq        INTEGER NOT NULL,
        skew_samples    INTEGER NOT NULL,
        skew_abs_sum_ms INTEGER NOT NULL,
        coincident      INTEGER NOT NULL,
        PRIMARY KEY (day_number, device_key)
      ) WITHOUT ROWID;
      CREATE TABLE telemetry_heartbeat (
        device_key  INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        device_ts   INTEGER,
        status      TEXT,
        metrics     TEXT,
        source      TEXT NOT NULL,
        coincident  INTEGER NOT NULL
      );
      CREATE INDEX telemetry_heartbeat_device_time ON telemetry_heartbeat (device_key, received_at);
      CREATE INDEX telemetry_heartbeat_time ON telemetry_heartbeat (received_at);
    `,
  },
  {
    version: 2,
    description: 'online minutes per device-day, so a verification reads counts, not maps, for closed days',
    // The count of set bits of minute_map, kept with the row by every write. A 30-day verification
    // then reads one number per closed day instead of a 180-byte map (bench/ verify: the maps were
    // most of the bytes the query moved). Existing rows are counted once here.
    up(db) {
      db.exec('ALTER TABLE telemetry_device_day ADD COLUMN online_minutes INTEGER NOT NULL DEFAULT 0');
      const update = db.prepare('UPDATE telemetry_device_day SET online_minutes = ? WHERE day_number = ? AND device_key = ?');
      const rows = db.prepare('SELECT day_number, device_key, minute_map FROM telemetry_device_day').iterate() as IterableIterator<{
        day_number: number;
        device_key: number;
        minute_map: Uint8Array;
      }>;
      const counted: Array<[number, number, number]> = [];
      for (const row of rows) counted.push([countMinutes(row.minute_map), row.day_number, row.device_key]);
      for (const args of counted) update.run(...args);
    },
  },
  {
    version: 3,
    description: 'device-day counters as one fixed-width blob, so the activity query returns one buffer',
    up(db) {
      db.exec(`
        CREATE TABLE telemetry_device_day_v3 (
          day_number INTEGER NOT NULL,
          device_key INTEGER NOT NULL,
          minute_map BLOB    NOT NULL CHECK (length(minute_map) = 180),
          counters   BLOB    NOT NULL CHECK (length(counters) = ${DAY_COUNTERS_BYTES}),
          PRIMARY KEY (day_number, device_key)
        ) WITHOUT ROWID`);
      const insert = db.prepare('INSERT INTO telemetry_device_day_v3 (day_number, device_key, minute_map, counters) VALUES (?, ?, ?, ?)');
      const rows = db
        .prepare(
          `SELECT day_number, device_key, minute_map, online_minutes, heartbeats, first_seen, last_seen, last_seq,
                  skew_samples, skew_abs_sum_ms, coincident FROM telemetry_device_day`,
        )
        .all() as Array<Record<string, number> & { minute_map: Uint8Array }>;
      for (const r of rows) {
        const counters = encodeDayCounters({
          deviceKey: r.device_key!,
          dayNumber: r.day_number!,
          onlineMinutes: r.online_minutes!,
          heartbeats: r.heartbeats!,
          firstSeen: r.first_seen!,
          lastSeen: r.last_seen!,
          lastSeq: r.last_seq!,
          skewSamples: r.skew_samples!,
          skewAbsSumMs: r.skew_abs_sum_ms!,
          coincident: r.coincident!,
        });
        insert.run(r.day_number, r.device_key, r.minute_map, counters);
      }
      db.exec('DROP TABLE telemetry_device_day; ALTER TABLE telemetry_device_day_v3 RENAME TO telemetry_device_day');
    },
  },
];
