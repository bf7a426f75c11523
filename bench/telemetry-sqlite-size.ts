/**
 * Measures the embedded telemetry store: bytes on disk per device-day, dailyActivity latency
 * for 1,000 devices × 30 days, and append throughput in batches of 2,000 over 5,000 devices.
 *
 *   npx tsx bench/telemetry-sqlite-size.ts
 *
 * Everything runs against real files (WAL, synchronous=FULL) in a temp directory that is
 * removed afterwards. Times are simulated receive times, not wall-clock reads.
 */
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase, type SqliteDb } from '../src/db/sqlite.js';
import { createSqliteTelemetryStore } from '../src/telemetry/sqlite/index.js';
import type { Heartbeat } from '../src/telemetry/types.js';
import { shanghaiDayStart, addDays } from '../src/time/shanghai.js';

const BATCH = 2000;
const FIRST_DAY = '2020-10-01';

function fileBytes(file: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    if (suffix === '-shm') continue; // shared-memory index, not data
    if (existsSync(file + suffix)) total += statSync(file + suffix).size;
  }
  return total;
}

function heartbeat(deviceId: string, seq: number, receivedAt: number): Heartbeat {
  return {
    deviceId,
    contractId: 'c-1',
    supplierId: 's-1',
    seq,
    receivedAt,
    deviceTs: receivedAt - 250 + (seq % 500),
    status: 'running',
    metrics: { temperature: 41.5 },
    source: '10.0.0.1',
    coincident: false,
  };
}

/**
 * Writes `days` days for `devices` devices: each device online 08:00–16:00 Shanghai with a
 * heartbeat every 2 minutes (240 a day), appended in time order in batches of BATCH.
 */
async function writeDays(
  store: ReturnType<typeof createSqliteTelemetryStore>,
  devices: number,
  fromDayIndex: number,
  days: number,
): Promise<number> {
  let written = 0;
  let batch: Heartbeat[] = [];
  for (let d = fromDayIndex; d < fromDayIndex + days; d++) {
    const dayStart = shanghaiDayStart(addDays(FIRST_DAY, d));
    for (let slot = 0; slot < 240; slot++) {
      const slotStart = dayStart + 8 * 3600_000 + slot * 120_000;
      for (let dev = 0; dev < devices; dev++) {
        batch.push(heartbeat(`dev-${String(dev).padStart(6, '0')}`, d * 1000 + slot, slotStart + ((dev * 7919) % 120_000)));
        if (batch.length === BATCH) {
          await store.append(batch);
          written += batch.length;
          batch = [];
        }
      }
    }
  }
  if (batch.length > 0) {
    await store.append(batch);
    written += batch.length;
  }
  return written;
}

function telemetryTableBytes(db: SqliteDb): number {
  const row = db
    .prepare(
      `SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN ('telemetry_device_day', 'telemetry_device', 'sqlite_autoindex_telemetry_device_1')`,
    )
    .get() as { bytes: number };
  return row.bytes;
}

async function sizeAndQuery(dir: string): Promise<void> {
  const file = join(dir, 'size.db');
  const db = openDatabase(file);
  const store = createSqliteTelemetryStore({ db });
  const devices = 1000;

  let t0 = performance.now();
  let heartbeats = await writeDays(store, devices, 0, 10);
  let seconds = (performance.now() - t0) / 1000;
  db.pragma('wal_checkpoint(TRUNCATE)');
  let rows = (db.prepare('SELECT count(*) AS n FROM telemetry_device_day').get() as { n: number }).n;
  console.log(`wrote ${heartbeats} heartbeats (${rows} device-days) in ${seconds.toFixed(1)} s`);
  console.log(
    `size @ ${rows} device-days: file ${fileBytes(file)} B → ${(fileBytes(file) / rows).toFixed(1)} B/device-day; ` +
      `telemetry b-trees (dbstat) ${(telemetryTableBytes(db) / rows).toFixed(1)} B/device-day`,
  );

  t0 = performance.now();
  heartbeats = await writeDays(store, devices, 10, 20);
  seconds = (performance.now() - t0) / 1000;
  db.pragma('wal_checkpoint(TRUNCATE)');
  rows = (db.prepare('SELECT count(*) AS n FROM telemetry_device_day').get() as { n: number }).n;
  console.log(`wrote ${heartbeats} more heartbeats in ${seconds.toFixed(1)} s`);
  console.log(
    `size @ ${rows} device-days: file ${fileBytes(file)} B → ${(fileBytes(file) / rows).toFixed(1)} B/device-day; ` +
      `telemetry b-trees (dbstat) ${(telemetryTableBytes(db) / rows).toFixed(1)} B/device-day`,
  );

  const ids = Array.from({ length: devices }, (_, i) => `dev-${String(i).padStart(6, '0')}`);
  const timings: number[] = [];
  let returned = 0;
  for (let run = 0; run < 11; run++) {
    const start = performance.now();
    const activity = await store.dailyActivity(ids, FIRST_DAY, addDays(FIRST_DAY, 29));
    timings.push(performance.now() - start);
    returned = activity.length;
  }
  const firstRun = timings[0]!;
  const warm = timings.slice(1).sort((a, b) => a - b);
  console.log(
    `dailyActivity ${devices} devices × 30 days → ${returned} rows: first ${firstRun.toFixed(1)} ms, ` +
      `warm median ${warm[Math.floor(warm.length / 2)]!.toFixed(1)} ms, max ${warm[warm.length - 1]!.toFixed(1)} ms`,
  );
  await store.close();
  db.close();
}

async function throughput(dir: string, rowCacheSize: number): Promise<void> {
  const file = join(dir, `throughput-${rowCacheSize}.db`);
  const db = openDatabase(file);
  const store = createSqliteTelemetryStore({ db, rowCacheSize });
  const devices = 5000;
  const batches = 500;
  const start = shanghaiDayStart('2020-10-09') + 9 * 3600_000;
  let seq = 0;
  let cursor = 0;
  const all: Heartbeat[][] = [];
  for (let b = 0; b < batches; b++) {
    const batch: Heartbeat[] = [];
    for (let i = 0; i < BATCH; i++) {
      const dev = cursor % devices;
      const round = Math.floor(cursor / devices); // every device once a minute
      batch.push(heartbeat(`dev-${String(dev).padStart(6, '0')}`, seq++, start + round * 60_000 + dev * 12));
      cursor++;
    }
    all.push(batch);
  }
  const t0 = performance.now();
  for (const batch of all) await store.append(batch);
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `append (rowCache ${rowCacheSize}): ${batches} batches × ${BATCH} over ${devices} devices in ${seconds.toFixed(2)} s → ` +
      `${Math.round((batches * BATCH) / seconds).toLocaleString('en')} heartbeats/s, ${((seconds * 1000) / batches).toFixed(2)} ms/batch`,
  );
  await store.close();
  db.close();
}

const dir = mkdtempSync(join(tmpdir(), 'telemetry-bench-'));
try {
  await sizeAndQuery(dir);
  await throughput(dir, 20_000);
  await throughput(dir, 0);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
