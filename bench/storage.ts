/**
 * storage: bytes on disk per device-day in SQLite (1,000 devices × 30 days, a heartbeat every
 * 5 minutes over 8 working hours; file + WAL after a TRUNCATE checkpoint, and the telemetry
 * b-trees alone via dbstat), and bytes per heartbeat in InfluxDB (data + wal after a restart
 * that snapshots the cache to TSM files).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/sqlite.js';
import { createSqliteTelemetryStore } from '../src/telemetry/sqlite/index.js';
import type { Heartbeat, TelemetryStore } from '../src/telemetry/types.js';
import { addDays, shanghaiDayStart } from '../src/time/shanghai.js';
import { sleep } from './harness.js';

const FIRST_DAY = '2020-10-01';

async function write(store: TelemetryStore, devices: number, days: number, perDay: number): Promise<number> {
  let batch: Heartbeat[] = [];
  let written = 0;
  for (let d = 0; d < days; d++) {
    const dayStart = shanghaiDayStart(addDays(FIRST_DAY, d));
    for (let k = 0; k < perDay; k++) {
      for (let i = 0; i < devices; i++) {
        const receivedAt = dayStart + 8 * 3600_000 + k * 300_000 + ((i * 7919) % 300_000);
        batch.push({
          deviceId: `dv_${String(i).padStart(16, '0')}`,
          contractId: `c${i % 50}`,
          supplierId: 's1',
          seq: d * perDay + k,
          receivedAt,
          deviceTs: receivedAt - 150,
          status: 'running',
          metrics: { spindleRpm: 1200 + (k % 10) },
          source: `10.0.${i % 250}.${(i >> 8) + 1}`,
          coincident: false,
        });
        if (batch.length === 5000) {
          await store.append(batch);
          written += batch.length;
          batch = [];
        }
      }
    }
  }
  if (batch.length) await store.append(batch);
  return written + batch.length;
}

export async function sqliteBytesPerDeviceDay(devices = 1000, days = 30, perDay = 96) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-storage-'));
  const file = join(dir, 'telemetry.db');
  try {
    const db = openDatabase(file);
    const store = createSqliteTelemetryStore({ db });
    const heartbeats = await write(store, devices, days, perDay);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const rows = (db.prepare('SELECT count(*) AS n FROM telemetry_device_day').get() as { n: number }).n;
    const btree = (db
      .prepare(`SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN ('telemetry_device_day', 'telemetry_device', 'sqlite_autoindex_telemetry_device_1')`)
      .get() as { bytes: number }).bytes;
    await store.close();
    db.close();
    let bytes = 0;
    for (const suffix of ['', '-wal']) if (existsSync(file + suffix)) bytes += statSync(file + suffix).size;
    return { heartbeats, deviceDays: rows, fileBytes: bytes, perDeviceDay: bytes / rows, btreePerDeviceDay: btree / rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function influxBytesPerHeartbeat(server: { url: string; dataDir: string; restart(): Promise<void> }, devices = 1000, days = 3, perDay = 96) {
  const { createInfluxTelemetryStore } = await import('../src/telemetry/influx/index.js');
  const store = await createInfluxTelemetryStore({ url: `${server.url}/bench_storage`, retentionDays: 0, bufferMax: 2_000_000, pingIntervalMs: 0 });
  const t0 = performance.now();
  const heartbeats = await write(store, devices, days, perDay);
  const writeSeconds = (performance.now() - t0) / 1000;
  await store.close();
  // Restart so the cache is snapshotted into TSM files, then measure what is on disk.
  await server.restart();
  const du = (d: string) => (existsSync(d) ? Number(execFileSync('du', ['-sb', d]).toString().split('\t')[0]) : 0);
  // The restarted server replays the WAL into its cache and snapshots it to TSM once the
  // shard is write-cold (test/support/influxd.ts sets 2 s); wait until the WAL is emptied.
  for (let waited = 0; waited < 30_000 && du(join(server.dataDir, 'wal')) > 1_000_000; waited += 1000) await sleep(1000);
  await sleep(1000);
  const bytes = du(join(server.dataDir, 'data')) + du(join(server.dataDir, 'wal'));
  return { heartbeats, bytes, perHeartbeat: bytes / heartbeats, writePerSecond: heartbeats / writeSeconds };
}
