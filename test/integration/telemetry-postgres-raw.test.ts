/**
 * Raw heartbeats on PostgreSQL (GATEWAY_RAW_RETENTION_DAYS with GATEWAY_STORE=postgres): stored
 * with their day's counters in one statement, one partition per Asia/Shanghai day, and the
 * retention drops whole partitions.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { createPostgresTelemetryStore } from '../../src/telemetry/postgres/index.js';
import { shanghaiDayNumber } from '../../src/time/shanghai.js';
import { createDatabase } from '../support/postgres.js';
import { buildHeartbeat } from '../support/telemetry-store-contract.js';

const DAY = 86_400_000;
const server = inject('postgresUrl');

describe.runIf(server)('raw heartbeats on PostgreSQL', () => {
  let url: string;
  let client: pg.Client;
  const clock = new VirtualClock('2020-10-09T12:00:00+08:00');
  const t0 = clock.now();

  beforeAll(async () => {
    url = await createDatabase(server!, 'raw');
    client = new pg.Client(url);
    await client.connect();
  });
  afterAll(() => client.end());

  const partitions = async () =>
    (
      await client.query<{ name: string }>(
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'telemetry_heartbeat'::regclass ORDER BY 1",
      )
    ).rows.map((r) => r.name);
  const seqs = async () => (await client.query<{ seq: string }>('SELECT seq FROM telemetry_heartbeat ORDER BY seq')).rows.map((r) => Number(r.seq));

  it('stores each heartbeat in its day partition with the day counters, and the retention drops whole days', async () => {
    // Two nodes on one database: both create today's partition at once; neither fails.
    const [a, b] = await Promise.all([1, 2].map(() => createPostgresTelemetryStore({ url, clock, rawRetentionDays: 3 })));
    const stores = [a!, b!];
    try {
      await Promise.all([
        a!.append([buildHeartbeat({ deviceId: 'dev-1', seq: 1, receivedAt: t0 - 5 * DAY }), buildHeartbeat({ deviceId: 'dev-1', seq: 2, receivedAt: t0 - 2 * DAY })]),
        b!.append([buildHeartbeat({ deviceId: 'dev-2', seq: 3, receivedAt: t0 }), buildHeartbeat({ deviceId: 'dev-2', seq: 4, receivedAt: t0 + 1000 })]),
        a!.append([buildHeartbeat({ deviceId: 'dev-1', seq: 5, receivedAt: t0 + 2000 })]),
      ]);
      const today = shanghaiDayNumber(t0);
      expect(await partitions()).toEqual([today - 5, today - 2, today].map((d) => `telemetry_heartbeat_${d}`).sort());
      expect(await seqs()).toEqual([1, 2, 3, 4, 5]);
      // The raw rows and the counters committed together: as many counted as stored.
      const counted = await client.query<{ n: string }>('SELECT sum(heartbeats) AS n FROM telemetry_device_day');
      expect(Number(counted.rows[0]!.n)).toBe(5);

      // Retention 3 days: days today-2..today are kept, today-5 is dropped as a whole partition.
      expect(await a!.prune(clock.now())).toBe(1);
      expect(await seqs()).toEqual([2, 3, 4, 5]);
      expect(await a!.prune(t0 + 3 * DAY)).toBe(2);
      expect(await seqs()).toEqual([]);
      // Counters are not raw evidence: they stay.
      expect(Number((await client.query<{ n: string }>('SELECT sum(heartbeats) AS n FROM telemetry_device_day')).rows[0]!.n)).toBe(5);
      // A day whose partition was dropped is written again after it (re-created on demand).
      await b!.append([buildHeartbeat({ deviceId: 'dev-2', seq: 6, receivedAt: t0 + 3 * DAY })]);
      expect(await seqs()).toEqual([6]);
    } finally {
      for (const s of stores) await s.close();
    }
  });
});
