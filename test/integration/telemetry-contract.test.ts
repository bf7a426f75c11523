/**
 * The TelemetryStore contract against every backend — SQLite on a temp-dir file, a real
 * InfluxDB 1.x server and a real PostgreSQL 15 (both started by global-setup.ts) — and one
 * virtual-time scenario through all three, whose activity rows and verification reports must
 * be identical; and InfluxDB and PostgreSQL each taken down under load
 * (test/support/influx-outage.ts, test/support/postgres-outage.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../src/db/sqlite.js';
import { createInfluxTelemetryStore, type InfluxTelemetryStore } from '../../src/telemetry/influx/index.js';
import { createPostgresTelemetryStore } from '../../src/telemetry/postgres/index.js';
import { createSqliteTelemetryStore } from '../../src/telemetry/sqlite/index.js';
import type { TelemetryStore } from '../../src/telemetry/types.js';
import { DEFAULT_ACTIVITY_POLICY, verifyContract } from '../../src/verifier/index.js';
import { describeInfluxOutage } from '../support/influx-outage.js';
import { createSchema } from '../support/postgres.js';
import { describePostgresOutage } from '../support/postgres-outage.js';
import { at, appendInBatches, buildFleetScenario, describeTelemetryStore, plain, referenceActivity, type StoreUnderTest } from '../support/telemetry-store-contract.js';

const influxUrl = inject('influxUrl');
const postgresUrl = inject('postgresUrl');
let databaseCounter = 0;

async function makeSqliteStore(): Promise<StoreUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-contract-sqlite-'));
  const db = openDatabase(join(dir, 'gateway.db'));
  const store = createSqliteTelemetryStore({ db });
  return {
    store,
    async cleanup() {
      await store.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database per test on the shared server; retention INF because the scenarios live in 2020. */
async function makeInfluxStore(): Promise<StoreUnderTest & { store: InfluxTelemetryStore }> {
  const database = `contract_${process.pid}_${++databaseCounter}_${Date.now()}`;
  const store = await createInfluxTelemetryStore({ url: `${influxUrl}/${database}`, retentionDays: 0, bufferMax: 200_000, pingIntervalMs: 0 });
  return {
    store,
    async cleanup() {
      await store.close();
      await fetch(`${influxUrl}/query`, { method: 'POST', body: new URLSearchParams({ q: `DROP DATABASE "${database}"` }) });
    },
  };
}

/** A fresh schema per test on the shared server (its own search_path), dropped afterwards. */
async function makePostgresStore(): Promise<StoreUnderTest> {
  const schema = await createSchema(postgresUrl!, 'contract');
  const store = await createPostgresTelemetryStore({ url: schema.url });
  return {
    store,
    async cleanup() {
      await store.close();
      await schema.drop();
    },
  };
}

describeTelemetryStore('sqlite (temp-dir file)', makeSqliteStore);
// Registered only with a server: global-setup.ts fails the run without one in CI and under
// `npm test`, and announces the omission loudly anywhere else.
if (influxUrl !== null) {
  describeTelemetryStore('influx (real InfluxDB 1.x server)', makeInfluxStore);
  describeInfluxOutage();
}
if (postgresUrl !== null) {
  describeTelemetryStore('postgres (real PostgreSQL 15 server)', makePostgresStore);
  describePostgresOutage();

  describe('several gateway nodes on one PostgreSQL database', () => {
    it('migrate at once under the advisory lock, and their concurrent batches of the same device-days add up exactly', async () => {
      const schema = await createSchema(postgresUrl!, 'nodes');
      // Four nodes starting together: without the lock, CREATE TABLE/FUNCTION would race and fail.
      const nodes = await Promise.all(Array.from({ length: 4 }, () => createPostgresTelemetryStore({ url: schema.url })));
      try {
        const heartbeats = buildFleetScenario(20, 3, '2020-10-01');
        // Each node gets every fourth heartbeat, so every device-day is written by all four at once.
        const shares = nodes.map((_, n) => heartbeats.filter((_, i) => i % nodes.length === n));
        await Promise.all(nodes.map((node, n) => appendInBatches(node, shares[n]!, 50)));
        const ids = Array.from({ length: 20 }, (_, i) => `dev${String(i).padStart(4, '0')}`);
        const rows = await nodes[0]!.dailyActivity(ids, '2020-10-01', '2020-10-03');
        expect(rows.length).toBeGreaterThan(30);
        // lastSeq on a tie of receive times goes to the later commit, and which node commits
        // later is a race: any heartbeat received at lastSeen may supply it. Everything else is exact.
        for (const row of rows) {
          const candidates = heartbeats.filter((hb) => hb.deviceId === row.deviceId && hb.receivedAt === row.lastSeen).map((hb) => hb.seq);
          expect(candidates, `${row.deviceId} ${row.day}`).toContain(row.lastSeq);
        }
        const withoutLastSeq = (list: typeof rows) => plain(list).map(({ lastSeq: _, ...rest }) => rest);
        expect(withoutLastSeq(rows)).toEqual(withoutLastSeq(referenceActivity(heartbeats)));
        // Another node reads the same rows.
        expect(plain(await nodes[3]!.dailyActivity(ids, '2020-10-01', '2020-10-03'))).toEqual(plain(rows));
      } finally {
        await Promise.all(nodes.map((node) => node.close()));
        await schema.drop();
      }
    });
  });
}

if (influxUrl !== null && postgresUrl !== null) describe('the same virtual-time scenario on SQLite, InfluxDB and PostgreSQL', () => {
  it('gives identical activity rows and identical verification reports on the three stores', async () => {
    const heartbeats = buildFleetScenario(40, 30, '2020-10-01');
    const sqlite = await makeSqliteStore();
    const influx = await makeInfluxStore();
    const postgres = await makePostgresStore();
    try {
      await appendInBatches(sqlite.store, heartbeats, 700);
      await appendInBatches(influx.store, heartbeats, 700);
      // Other batch boundaries on PostgreSQL: its upsert merges device-days across batches in SQL.
      await appendInBatches(postgres.store, heartbeats, 333);
      const ids = Array.from({ length: 40 }, (_, i) => `dev${String(i).padStart(4, '0')}`);
      const [fromSqlite, fromInflux, fromRaw, fromPostgres] = await Promise.all([
        sqlite.store.dailyActivity(ids, '2020-10-01', '2020-10-30'),
        influx.store.dailyActivity(ids, '2020-10-01', '2020-10-30'),
        influx.store.rawDailyActivity(ids, '2020-10-01', '2020-10-30'),
        postgres.store.dailyActivity(ids, '2020-10-01', '2020-10-30'),
      ]);
      expect(fromSqlite.length).toBeGreaterThan(900);
      expect(plain(fromInflux)).toEqual(plain(fromSqlite));
      expect(plain(fromPostgres)).toEqual(plain(fromSqlite));
      expect(plain(fromRaw)).toEqual(plain(fromSqlite)); // the rollups agree with the raw evidence
      expect(plain(fromSqlite)).toEqual(plain(referenceActivity(heartbeats)));

      const report = (store: TelemetryStore, activity: typeof fromSqlite) =>
        verifyContract({
          contract: { id: 'contract-1', catalogId: 5, voucherFen: 2_000_000, requiredDevices: 30 },
          devices: ids.map((id) => ({ id, serial: `SN-${id}` })),
          duplicates: new Map(),
          activity,
          connections: new Map(),
          replaysByDevice: new Map(),
          policy: DEFAULT_ACTIVITY_POLICY,
          at: at('2020-10-30', '18:00:00'),
        });
      const a = report(sqlite.store, fromSqlite);
      const b = report(influx.store, fromInflux);
      const c = report(postgres.store, fromPostgres);
      expect(b).toEqual(a);
      expect(b.digest).toBe(a.digest);
      expect(c).toEqual(a);
      expect(c.digest).toBe(a.digest);
      expect(a.devices.some((d) => d.activeDays > 0)).toBe(true);
    } finally {
      await sqlite.cleanup();
      await influx.cleanup();
      await postgres.cleanup();
    }
  });
});
