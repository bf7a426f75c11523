import { describe, it, expect, onTestFinished } from 'vitest';
import { migrate, openDatabase } from '../../../src/db/sqlite.js';
import { telemetryMigrations } from '../../../src/telemetry/sqlite/schema.js';
import { MINUTE_MAP_BYTES } from '../../../src/telemetry/types.js';
import { shanghaiDayNumber } from '../../../src/time/shanghai.js';
import { createSqliteTelemetryStore, type SqliteTelemetryStoreOptions } from '../../../src/telemetry/sqlite/index.js';
import { countMinutes } from '../../../src/activity/index.js';
import { buildHeartbeat, useTempDatabase } from './fixtures.js';
import { describeTelemetryStore, type MakeStore } from '../../support/telemetry-store-contract.js';

/** SQLite in memory: the file variant runs in the integration project. */
function inMemory(options: Omit<SqliteTelemetryStoreOptions, 'db'> = {}): MakeStore {
  return async () => {
    const db = openDatabase(':memory:');
    const store = createSqliteTelemetryStore({ db, ...options });
    return {
      store,
      async cleanup() {
        await store.close();
        db.close();
      },
    };
  };
}

describeTelemetryStore('sqlite (in-memory database)', inMemory());
describeTelemetryStore('sqlite without the row cache', inMemory({ rowCacheSize: 0 }));

const t0 = Date.parse('2020-10-09T02:00:00Z'); // 10:00 Shanghai

describe('sqlite telemetry store', () => {
  it('keeps device-days across closing and reopening the file', async () => {
    const { db, reopen } = useTempDatabase();
    const store = createSqliteTelemetryStore({ db });
    await store.append([buildHeartbeat({ seq: 1, receivedAt: t0 }), buildHeartbeat({ seq: 2, receivedAt: t0 + 60_000 })]);
    await store.close();
    db.close();

    const db2 = reopen();
    const reopened = createSqliteTelemetryStore({ db: db2 });
    await reopened.append([buildHeartbeat({ seq: 3, receivedAt: t0 + 120_000 })]);
    const [row] = await reopened.dailyActivity(['dev-1'], '2020-10-09', '2020-10-09');
    expect(row).toMatchObject({ heartbeats: 3, firstSeen: t0, lastSeen: t0 + 120_000, lastSeq: 3 });
    expect(countMinutes(row!.minuteMap!)).toBe(3);
  });

  it('sees rows written by another connection to the same file (the file, not the cache, is the truth)', async () => {
    const { db, reopen } = useTempDatabase();
    const writer = createSqliteTelemetryStore({ db });
    const reader = createSqliteTelemetryStore({ db: reopen() });
    expect(await reader.dailyActivity(['dev-1'], '2020-10-09', '2020-10-09')).toEqual([]);
    await writer.append([buildHeartbeat({ receivedAt: t0 })]);
    expect(await reader.dailyActivity(['dev-1'], '2020-10-09', '2020-10-09')).toHaveLength(1);
  });

  it('leaves the shared database open on close and refuses appends afterwards', async () => {
    const { db } = useTempDatabase();
    const store = createSqliteTelemetryStore({ db });
    await store.close();
    await store.close();
    expect(db.open).toBe(true);
    expect(store.health().status).toBe('degraded');
    await expect(store.append([buildHeartbeat()])).rejects.toThrow(/closed/);
  });

  it('runs its migrations once per file', async () => {
    const { db } = useTempDatabase();
    createSqliteTelemetryStore({ db });
    createSqliteTelemetryStore({ db });
    const versions = db.prepare("SELECT version FROM schema_migrations WHERE component = 'telemetry'").all();
    expect(versions).toEqual(telemetryMigrations.map((m) => ({ version: m.version })));
  });

  it('writes a whole batch or nothing, and a failed batch leaves no trace in later answers', async () => {
    const { db } = useTempDatabase();
    const store = createSqliteTelemetryStore({ db, rawRetentionDays: 7 });
    await store.append([buildHeartbeat({ seq: 1, receivedAt: t0 })]);
    // A metrics value JSON cannot encode fails the raw-evidence insert after the day rows were written.
    const poisoned = buildHeartbeat({ seq: 2, receivedAt: t0 + 60_000, metrics: { bad: 1n as unknown as number } });
    await expect(
      store.append([buildHeartbeat({ deviceId: 'dev-2', receivedAt: t0 }), buildHeartbeat({ seq: 5, receivedAt: t0 + 30_000 }), poisoned]),
    ).rejects.toThrow();
    expect(await store.dailyActivity(['dev-1', 'dev-2'], '2020-10-09', '2020-10-09')).toMatchObject([
      { deviceId: 'dev-1', heartbeats: 1, lastSeq: 1 },
    ]);
    await store.append([buildHeartbeat({ seq: 3, receivedAt: t0 + 120_000 }), buildHeartbeat({ deviceId: 'dev-2', receivedAt: t0 })]);
    const rows = await store.dailyActivity(['dev-1', 'dev-2'], '2020-10-09', '2020-10-09');
    expect(rows.map((r) => [r.deviceId, r.heartbeats, r.lastSeq, countMinutes(r.minuteMap!)])).toEqual([
      ['dev-1', 2, 3, 2],
      ['dev-2', 1, 1, 1],
    ]);
  });

  it('rejects a batch holding a heartbeat without a finite receive time', async () => {
    const { db } = useTempDatabase();
    const store = createSqliteTelemetryStore({ db });
    await expect(store.append([buildHeartbeat({ receivedAt: Number.NaN })])).rejects.toThrow(TypeError);
    expect(await store.dailyActivity(['dev-1'], '1970-01-01', '2100-01-01')).toEqual([]);
  });

  it('keeps no raw heartbeats when retention is off', async () => {
    const { db } = useTempDatabase();
    const store = createSqliteTelemetryStore({ db });
    await store.append([buildHeartbeat({ receivedAt: t0 })]);
    expect(store.rawHeartbeats('dev-1', 0, Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(store.prune(t0 + 365 * 86_400_000)).toBe(0);
  });

  it('keeps raw heartbeats as evidence and prunes those older than the retention', async () => {
    const { db } = useTempDatabase();
    const store = createSqliteTelemetryStore({ db, rawRetentionDays: 2 });
    const day = 86_400_000;
    await store.append([
      buildHeartbeat({ seq: 1, receivedAt: t0, deviceTs: t0 - 40, status: 'running', metrics: { rpm: 1200 } }),
      buildHeartbeat({ seq: 2, receivedAt: t0 + day, source: '10.0.0.9', coincident: true }),
    ]);
    expect(store.rawHeartbeats('dev-1', t0, t0 + day)).toEqual([
      { deviceId: 'dev-1', receivedAt: t0, seq: 1, deviceTs: t0 - 40, status: 'running', metrics: { rpm: 1200 }, source: '10.0.0.1', coincident: false },
      { deviceId: 'dev-1', receivedAt: t0 + day, seq: 2, deviceTs: null, status: null, metrics: null, source: '10.0.0.9', coincident: true },
    ]);
    expect(store.prune(t0 + 2 * day + 1)).toBe(1);
    expect(store.rawHeartbeats('dev-1', 0, Number.MAX_SAFE_INTEGER).map((r) => r.seq)).toEqual([2]);
    // Pruning evidence never touches the activity rows.
    expect(await store.dailyActivity(['dev-1'], '2020-10-09', '2020-10-10')).toHaveLength(2);
  });

  it('rejects a negative or fractional retention', () => {
    const { db } = useTempDatabase();
    expect(() => createSqliteTelemetryStore({ db, rawRetentionDays: -1 })).toThrow(RangeError);
    expect(() => createSqliteTelemetryStore({ db, rawRetentionDays: 1.5 })).toThrow(RangeError);
  });

  it('coalesces hundreds of heartbeats of one device into one row per day', async () => {
    const { db } = useTempDatabase();
    const store = createSqliteTelemetryStore({ db });
    // 600 heartbeats, one every 10 s for 100 minutes.
    await store.append(Array.from({ length: 600 }, (_, i) => buildHeartbeat({ seq: i, receivedAt: t0 + i * 10_000 })));
    expect(db.prepare('SELECT count(*) AS n FROM telemetry_device_day').get()).toEqual({ n: 1 });
    const [row] = await store.dailyActivity(['dev-1'], '2020-10-09', '2020-10-09');
    expect(row).toMatchObject({ heartbeats: 600, lastSeq: 599 });
    expect(countMinutes(row!.minuteMap!)).toBe(100);
  });
});

describe('sqlite telemetry schema', () => {
  it('counts the online minutes of device-days written before the column existed (migration 2) and carries every counter into the blob (migration 3)', async () => {
    const db = openDatabase(':memory:');
    onTestFinished(() => {
      db.close();
    });
    migrate(db, 'telemetry', telemetryMigrations.filter((m) => m.version === 1));
    const map = new Uint8Array(MINUTE_MAP_BYTES);
    for (const minute of [0, 7, 8, 600, 1439]) map[minute >> 3]! |= 1 << (minute & 7);
    db.prepare("INSERT INTO telemetry_device (device_key, device_id) VALUES (1, 'dev-old')").run();
    db.prepare(
      `INSERT INTO telemetry_device_day (day_number, device_key, minute_map, heartbeats, first_seen, last_seen, last_seq, skew_samples, skew_abs_sum_ms, coincident)
       VALUES (?, 1, ?, 9, ?, ?, 9, 4, 480000, 2)`,
    ).run(shanghaiDayNumber(t0), map, t0, t0 + 3_600_000);

    const store = createSqliteTelemetryStore({ db });
    const [row] = await store.dailyActivity(['dev-old'], '2020-10-09', '2020-10-09');
    expect(row).toMatchObject({
      deviceId: 'dev-old',
      onlineMinutes: 5,
      heartbeats: 9,
      firstSeen: t0,
      lastSeen: t0 + 3_600_000,
      lastSeq: 9,
      skewSamples: 4,
      skewAbsSumMs: 480_000,
      coincidentHeartbeats: 2,
    });
  });
});
