import { sql } from 'kysely';
import { describe, it, expect } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import type { SqlDb } from '../../../src/db/sql-db.js';
import { createEvidenceStore, type ConnectionEvent } from '../../../src/telemetry/evidence.js';
import { SQL_DIALECTS, useSqlDb } from './sql-fixtures.js';

const at = (iso: string): number => Date.parse(iso);
const clock = new VirtualClock('2020-10-09T00:00:00Z');
const open = (db: SqlDb) => createEvidenceStore(db, clock);

describe.each(SQL_DIALECTS)('evidence store on %s', (dialect) => {
  const useDb = useSqlDb(dialect);

  describe('evidence store: rejection counters', () => {
    it('persists counters only on flush, and they survive reopening the database', async () => {
      const { sql: db, reopen } = await useDb();
      const evidence = await open(db);
      const t = at('2020-10-09T02:00:00Z');
      for (let i = 0; i < 3; i++) evidence.countRejection('dev-1', t + i, 'invalid-json');
      evidence.countRejection('dev-1', t, 'rate-limited');

      const other = reopen();
      const storedRows = () => other.one(sql`SELECT count(*) AS n FROM evidence_rejection`);
      expect(await storedRows()).toEqual({ n: 0 });
      expect(evidence.pendingWrites()).toBe(2);

      expect(await evidence.flush()).toBe(2);
      expect(evidence.pendingWrites()).toBe(0);
      expect(await storedRows()).toEqual({ n: 2 });

      await db.close();
      const reopened = await open(other);
      expect(await reopened.rejections(['dev-1'], '2020-10-09', '2020-10-09')).toEqual([
        { deviceId: 'dev-1', day: '2020-10-09', reason: 'invalid-json', count: 3 },
        { deviceId: 'dev-1', day: '2020-10-09', reason: 'rate-limited', count: 1 },
      ]);
    });

    it('adds later flushes to the stored counts and includes counts not yet flushed in answers', async () => {
      const { sql: db } = await useDb();
      const evidence = await open(db);
      const t = at('2020-10-09T02:00:00Z');
      evidence.countRejection('dev-1', t, 'duplicate-seq');
      await evidence.flush();
      evidence.countRejection('dev-1', t, 'duplicate-seq');
      evidence.countRejection('dev-1', t, 'duplicate-seq');
      expect(await evidence.rejections(['dev-1'], '2020-10-09', '2020-10-09')).toEqual([
        { deviceId: 'dev-1', day: '2020-10-09', reason: 'duplicate-seq', count: 3 },
      ]);
      await evidence.flush();
      expect(await db.all(sql`SELECT count FROM evidence_rejection`)).toEqual([{ count: 3 }]);
    });

    it('counts by Asia/Shanghai day and returns the day range inclusively', async () => {
      const { sql: db } = await useDb();
      const evidence = await open(db);
      evidence.countRejection('dev-1', at('2020-10-09T15:59:59Z'), 'rate-limited'); // 2020-10-09 23:59:59 +08:00
      evidence.countRejection('dev-1', at('2020-10-09T16:00:00Z'), 'rate-limited'); // 2020-10-10 00:00:00 +08:00
      evidence.countRejection('dev-1', at('2020-10-11T04:00:00Z'), 'rate-limited');
      evidence.countRejection('dev-2', at('2020-10-10T04:00:00Z'), 'payload-too-large');
      await evidence.flush();
      expect(await evidence.rejections(['dev-2', 'dev-1'], '2020-10-09', '2020-10-10')).toEqual([
        { deviceId: 'dev-1', day: '2020-10-09', reason: 'rate-limited', count: 1 },
        { deviceId: 'dev-1', day: '2020-10-10', reason: 'rate-limited', count: 1 },
        { deviceId: 'dev-2', day: '2020-10-10', reason: 'payload-too-large', count: 1 },
      ]);
      expect(await evidence.rejections(['dev-1'], '2020-10-11', '2020-10-11')).toHaveLength(1);
      expect(await evidence.rejections(['dev-3'], '2020-10-01', '2020-10-31')).toEqual([]);
    });

    it('flushes pending counters on close, leaving the database open', async () => {
      const { sql: db } = await useDb();
      const evidence = await open(db);
      evidence.countRejection('dev-1', at('2020-10-09T02:00:00Z'), 'seq-replay');
      await evidence.close();
      // Read through the same handle: the database belongs to the caller and is still open.
      expect(await db.all(sql`SELECT device_id, reason, count FROM evidence_rejection`)).toEqual([
        { device_id: 'dev-1', reason: 'seq-replay', count: 1 },
      ]);
    });

    it('keeps the counts in memory when a flush fails, so none are lost', async () => {
      const { sql: db, exec } = await useDb();
      const evidence = await open(db);
      evidence.countRejection('dev-1', at('2020-10-09T02:00:00Z'), 'invalid-payload');
      await exec(db, 'ALTER TABLE evidence_rejection RENAME TO evidence_rejection_away');
      await expect(evidence.flush()).rejects.toThrow();
      await exec(db, 'ALTER TABLE evidence_rejection_away RENAME TO evidence_rejection');
      evidence.countRejection('dev-1', at('2020-10-09T02:00:00Z'), 'invalid-payload');
      expect(evidence.pendingWrites()).toBe(1);
      await evidence.flush();
      expect(await db.all(sql`SELECT count FROM evidence_rejection`)).toEqual([{ count: 2 }]);
    });
  });

  describe('evidence store: connection events', () => {
    const events: ConnectionEvent[] = [
      { deviceId: 'dev-1', at: at('2020-10-09T00:00:00Z'), kind: 'connect', source: '10.0.0.1' },
      { deviceId: 'dev-1', at: at('2020-10-09T01:00:00Z'), kind: 'takeover', source: '10.0.0.7' },
      { deviceId: 'dev-1', at: at('2020-10-09T01:00:01Z'), kind: 'disconnect', source: '10.0.0.1' },
      { deviceId: 'dev-1', at: at('2020-10-09T02:00:00Z'), kind: 'takeover', source: '10.0.0.1' },
      { deviceId: 'dev-1', at: at('2020-10-09T03:00:00Z'), kind: 'auth-failed', source: '10.0.0.66' },
      { deviceId: 'dev-2', at: at('2020-10-09T00:30:00Z'), kind: 'connect', source: '10.0.0.2' },
      { deviceId: 'dev-2', at: at('2020-10-12T00:30:00Z'), kind: 'connect', source: '10.0.0.3' },
    ];

    it('shows events at once, stores them on flush, and returns those in the time range, inclusive, ordered by device then time', async () => {
      const { sql: db, reopen } = await useDb();
      const evidence = await open(db);
      for (const event of [...events].reverse()) evidence.recordConnection(event);
      const fromOtherConnection = await open(reopen());
      const from = at('2020-10-09T00:00:00Z');
      const to = at('2020-10-09T03:00:00Z');
      const expected = events.slice(0, 6).sort((a, b) => (a.deviceId === b.deviceId ? a.at - b.at : a.deviceId < b.deviceId ? -1 : 1));

      // Queued: visible to this store's reads, not yet in the database.
      expect(evidence.pendingWrites()).toBe(events.length);
      expect(await evidence.connections(['dev-2', 'dev-1'], from, to)).toEqual(expected);
      expect(await fromOtherConnection.connections(['dev-2', 'dev-1'], from, to)).toEqual([]);

      // Flushed: in the database, and read once, not twice.
      expect(await evidence.flush()).toBe(events.length);
      expect(evidence.pendingWrites()).toBe(0);
      expect(await fromOtherConnection.connections(['dev-2', 'dev-1'], from, to)).toEqual(expected);
      expect(await evidence.connections(['dev-2', 'dev-1'], from, to)).toEqual(expected);
      expect((await evidence.connections(['dev-1'], from + 1, to - 1)).map((e) => e.kind)).toEqual(['takeover', 'disconnect', 'takeover']);
      expect(await evidence.connections([], from, to)).toEqual([]);
    });

    it('keeps queued events when the flush fails, and stores them on the next one', async () => {
      const { sql: db, exec, dropTrigger } = await useDb();
      const evidence = await open(db);
      evidence.recordConnection(events[0]!);
      await exec(db, `CREATE TRIGGER refuse BEFORE INSERT ON evidence_connection BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
      await expect(evidence.flush()).rejects.toThrow(/disk full/);
      evidence.recordConnection(events[1]!);
      expect(evidence.pendingWrites()).toBe(2);
      await dropTrigger(db, 'refuse', 'evidence_connection');
      expect(await evidence.flush()).toBe(2);
      const stored = await db.all(sql`SELECT device_id, at, kind FROM evidence_connection ORDER BY id`);
      expect(stored).toEqual([events[0]!, events[1]!].map((e) => ({ device_id: e.deviceId, at: e.at, kind: e.kind })));
    });

    it('summarises connects, take-overs and their sources per device, with zeros for a quiet device', async () => {
      const { sql: db } = await useDb();
      const evidence = await open(db);
      for (const event of events) evidence.recordConnection(event);
      expect(await evidence.connectionSummary(['dev-3', 'dev-2', 'dev-1'], at('2020-10-09T00:00:00Z'), at('2020-10-10T00:00:00Z'))).toEqual([
        {
          deviceId: 'dev-1',
          connects: 1,
          disconnects: 1,
          takeovers: 2,
          authFailures: 1,
          distinctSources: ['10.0.0.1', '10.0.0.7'],
          takeoverSources: ['10.0.0.1', '10.0.0.7'],
          lastConnectAt: at('2020-10-09T00:00:00Z'),
        },
        {
          deviceId: 'dev-2',
          connects: 1,
          disconnects: 0,
          takeovers: 0,
          authFailures: 0,
          distinctSources: ['10.0.0.2'],
          takeoverSources: [],
          lastConnectAt: at('2020-10-09T00:30:00Z'),
        },
        {
          deviceId: 'dev-3',
          connects: 0,
          disconnects: 0,
          takeovers: 0,
          authFailures: 0,
          distinctSources: [],
          takeoverSources: [],
          lastConnectAt: null,
        },
      ]);
    });

    it('rejects an unknown event kind (poisoned input) without writing it', async () => {
      const { sql: db } = await useDb();
      const evidence = await open(db);
      expect(() =>
        evidence.recordConnection({ deviceId: 'dev-1', at: 0, kind: 'subscribe' as ConnectionEvent['kind'], source: 'x' }),
      ).toThrow(RangeError);
      expect(() => evidence.recordConnection({ deviceId: 'dev-1', at: Number.NaN, kind: 'connect', source: 'x' })).toThrow(RangeError);
      expect(await evidence.connections(['dev-1'], -1e15, 1e15)).toEqual([]);
    });
  });

  describe('evidence store: clock-drift sums', () => {
    it('adds segments per device-day in memory, stores them on flush, and answers with both', async () => {
      const { sql: db, reopen } = await useDb();
      const evidence = await open(db);
      const day = Math.floor((at('2020-10-09T02:00:00Z') + 8 * 3600_000) / 86_400_000);
      const segment = { deviceId: 'dev-1', dayNumber: day, samples: 10, segments: 1, sxx: 100, sxy: 2, syy: 1 };
      evidence.addClockSegments([segment, { ...segment, samples: 5 }, { ...segment, dayNumber: day + 1 }]);
      expect(evidence.pendingWrites()).toBe(2);
      expect(await evidence.flush()).toBe(2);
      evidence.addClockSegments([{ ...segment, deviceId: 'dev-2' }, segment]);
      expect(await evidence.clockDays(['dev-1', 'dev-2', 'dev-3'], '2020-10-09', '2020-10-09')).toEqual(
        new Map([
          ['dev-1', [{ samples: 25, segments: 3, sxx: 300, sxy: 6, syy: 3 }]],
          ['dev-2', [{ samples: 10, segments: 1, sxx: 100, sxy: 2, syy: 1 }]],
        ]),
      );
      await evidence.flush();
      await db.close();
      const reopened = await open(reopen());
      expect((await reopened.clockDays(['dev-1'], '2020-10-09', '2020-10-10')).get('dev-1')).toEqual([
        { samples: 25, segments: 3, sxx: 300, sxy: 6, syy: 3 },
        { samples: 10, segments: 1, sxx: 100, sxy: 2, syy: 1 },
      ]);
    });
  });
});
