/**
 * `npx tsx bench/verify-influx.ts [devices=1000] [days=30] [perDay=65]`
 *
 * Starts a throw-away influxd (Debian's 1.6.7), writes devices × days × perDay heartbeats
 * through the InfluxDB telemetry store, and prints: write throughput, bytes on disk per
 * heartbeat (after a full compaction-free restart: du of data+wal), and the time of
 * dailyActivity for all devices over the whole window — the query verification runs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createInfluxTelemetryStore } from '../src/telemetry/influx/index.js';
import type { Heartbeat } from '../src/telemetry/types.js';
import { addDays, shanghaiDayStart } from '../src/time/shanghai.js';
import { startInfluxd } from '../test/support/influxd.js';

const devices = Number(process.argv[2] ?? 1000);
const days = Number(process.argv[3] ?? 30);
const perDay = Number(process.argv[4] ?? 65);
const firstDay = '2020-10-01';
const lastDay = addDays(firstDay, days - 1);

const server = await startInfluxd();
try {
  const store = await createInfluxTelemetryStore({ url: `${server.url}/bench`, retentionDays: 0, bufferMax: 1_000_000, pingIntervalMs: 0 });
  const ids = Array.from({ length: devices }, (_, i) => `dev${String(i).padStart(5, '0')}`);

  const total = devices * days * perDay;
  const batchSize = 5_000;
  const inFlight = new Set<Promise<void>>();
  let batch: Heartbeat[] = [];
  let written = 0;
  const t0 = performance.now();
  for (let d = 0; d < days; d++) {
    const dayStart = shanghaiDayStart(addDays(firstDay, d));
    // Interleaved as a live fleet sends them: every batch touches many device-days, so each
    // batch carries about one rollup point per heartbeat (the store's worst case).
    for (let k = 0; k < perDay; k++) {
      for (let i = 0; i < devices; i++) {
        const startMinute = 8 * 60 + (i % 120);
        const receivedAt = dayStart + (startMinute + k) * 60_000 + ((i * 7919 + k * 104729) % 60_000);
        batch.push({
          deviceId: ids[i]!,
          contractId: `c${i % 50}`,
          supplierId: `s${i % 5}`,
          seq: d * perDay + k,
          receivedAt,
          deviceTs: receivedAt + ((k % 7) - 3) * 150,
          status: 'running',
          metrics: { spindleRpm: 1200 + (k % 10) },
          source: `10.0.${i % 250}.${(i >> 8) + 1}`,
          coincident: k % 50 === 0,
        });
        if (batch.length === batchSize) {
          const p = store.append(batch).then(() => {
            written += batchSize;
          });
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
          batch = [];
          if (inFlight.size >= 8) await Promise.race(inFlight);
        }
      }
    }
  }
  if (batch.length > 0) {
    const n = batch.length;
    inFlight.add(store.append(batch).then(() => void (written += n)));
  }
  await Promise.all(inFlight);
  const writeMs = performance.now() - t0;
  console.log(`wrote ${written} heartbeats in ${writeMs.toFixed(0)} ms = ${Math.round(written / (writeMs / 1000))} heartbeats/s`);

  // Restart so the WAL is turned into TSM files, then measure the disk.
  await store.close();
  await server.restart();
  await new Promise((r) => setTimeout(r, 2000));
  const du = (dir: string) => Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);
  const bytes = du(join(server.dataDir, 'data')) + du(join(server.dataDir, 'wal'));
  console.log(`disk: ${bytes} bytes data+wal = ${(bytes / written).toFixed(1)} bytes/heartbeat`);

  const reader = await createInfluxTelemetryStore({ url: `${server.url}/bench`, retentionDays: 0, bufferMax: 200_000, pingIntervalMs: 0 });
  let rollupRows: Awaited<ReturnType<typeof reader.dailyActivity>> = [];
  for (let run = 1; run <= 3; run++) {
    const q0 = performance.now();
    rollupRows = await reader.dailyActivity(ids, firstDay, lastDay);
    const qMs = performance.now() - q0;
    const heartbeats = rollupRows.reduce((s, r) => s + r.heartbeats, 0);
    console.log(`dailyActivity ${devices} devices × ${days} days: ${rollupRows.length} rows, ${heartbeats} heartbeats, ${qMs.toFixed(0)} ms (run ${run})`);
  }
  const r0 = performance.now();
  const rawRows = await reader.rawDailyActivity(ids, firstDay, lastDay);
  const same = JSON.stringify(rawRows.map((r) => ({ ...r, minuteMap: Buffer.from(r.minuteMap!).toString('hex') }))) ===
    JSON.stringify(rollupRows.map((r) => ({ ...r, minuteMap: Buffer.from(r.minuteMap!).toString('hex') })));
  console.log(`rawDailyActivity (from raw points, the audit path): ${(performance.now() - r0).toFixed(0)} ms, identical to rollups: ${same}`);
  await reader.close();
} finally {
  await server.stop();
}
