import { describe, it, expect } from 'vitest';
import { createEvidenceStore, type ConnectionEvent } from '../../../src/telemetry/evidence.js';
import { useTempDatabase } from './fixtures.js';

const at = (iso: string): number => Date.parse(iso);

describe('evidence store: rejection counters', () => {
  it('persists counters only on flush, and they survive reopening the file', () => {
    const { db, reopen } = useTempDatabase();
    const evidence = createEvidenceStore(db);
    const t = at('2020-10-09T02:00:00Z');
    for (let i = 0; i < 3; i++) evidence.countRejection('dev-1', t + i, 'invalid-json');
    evidence.countRejection('dev-1', t, 'rate-limited');

    const other = reopen();
    const storedRows = () => other.prepare('SELECT count(*) AS n FROM evidence_rejection').get();
    expect(storedRows()).toEqual({ n: 0 });
    expect(evidence.pendingWrites()).toBe(2);

    expect(evidence.flush()).toBe(2);
    expect(evidence.pendingWrites()).toBe(0);
    expect(storedRows()).toEqual({ n: 2 });

    db.close();
    const reopened = createEvidenceStore(other);
    expect(reopened.rejections(['dev-1'], '2020-10-09', '2020-10-09')).toEqual([
      { deviceId: 'dev-1', day: '2020-10-09', reason: 'invalid-json', count: 3 },
      { deviceId: 'dev-1', day: '2020-10-09', reason: 'rate-limited', count: 1 },
    ]);
  });

  it('adds later flushes to the stored counts and includes counts not yet flushed in answers', () => {
    const { db } = useTempDatabase();
    const evidence = createEvidenceStore(db);
    const t = at('2020-10-09T02:00:00Z');
    evidence.countRejection('dev-1', t, 'duplicate-seq');
    evidence.flush();
    evidence.countRejection('dev-1', t, 'duplicate-seq');
    evidence.countRejection('dev-1', t, 'duplicate-seq');
    expect(evidence.rejections(['dev-1'], '2020-10-09', '2020-10-09')).toEqual([
      { deviceId: 'dev-1', day: '2020-10-09', reason: 'duplicate-seq', count: 3 },
    ]);
    evidence.flush();
    expect(db.prepare('SELECT count FROM evidence_rejection').all()).toEqual([{ count: 3 }]);
  });

  it('counts by Asia/Shanghai day and returns the day range inclusively', () => {
    const { db } = useTempDatabase();
    const evidence = createEvidenceStore(db);
    evidence.countRejection('dev-1', at('2020-10-09T15:59:59Z'), 'rate-limited'); // 2020-10-09 23:59:59 +08:00
    evidence.countRejection('dev-1', at('2020-10-09T16:00:00Z'), 'rate-limited'); // 2020-10-10 00:00:00 +08:00
    evidence.countRejection('dev-1', at('2020-10-11T04:00:00Z'), 'rate-limited');
    evidence.countRejection('dev-2', at('2020-10-10T04:00:00Z'), 'payload-too-large');
    evidence.flush();
    expect(evidence.rejections(['dev-2', 'dev-1'], '2020-10-09', '2020-10-10')).toEqual([
      { deviceId: 'dev-1', day: '2020-10-09', reason: 'rate-limited', count: 1 },
      { deviceId: 'dev-1', day: '2020-10-10', reason: 'rate-limited', count: 1 },
      { deviceId: 'dev-2', day: '2020-10-10', reason: 'payload-too-large', count: 1 },
    ]);
    expect(evidence.rejections(['dev-1'], '2020-10-11', '2020-10-11')).toHaveLength(1);
    expect(evidence.rejections(['dev-3'], '2020-10-01', '2020-10-31')).toEqual([]);
  });

  it('flushes pending counters on close', () => {
    const { db } = useTempDatabase();
    const evidence = createEvidenceStore(db);
    evidence.countRejection('dev-1', at('2020-10-09T02:00:00Z'), 'seq-replay');
    evidence.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT device_id, reason, count FROM evidence_rejection').all()).toEqual([
      { device_id: 'dev-1', reason: 'seq-replay', count: 1 },
    ]);
  });

  it('keeps the counts in memory when a flush fails, so none are lost', () => {
    const { db } = useTempDatabase();
    const evidence = createEvidenceStore(db);
    evidence.countRejection('dev-1', at('2020-10-09T02:00:00Z'), 'invalid-payload');
    db.exec('ALTER TABLE evidence_rejection RENAME TO evidence_rejection_away');
    expect(() => evidence.flush()).toThrow();
    db.exec('ALTER TABLE evidence_rejection_away RENAME TO evidence_rejection');
    evidence.countRejection('dev-1', at('2020-10-09T02:00:00Z'), 'invalid-payload');
    expect(evidence.pendingWrites()).toBe(1);
    // Statements prepared against the renamed table are re-prepared by SQLite on the next run.
    evidence.flush();
    expect(db.prepare('SELECT count FROM evidence_rejection').all()).toEqual([{ count: 2 }]);
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

  it('shows events at once, stores them on flush, and returns those in the time range, inclusive, ordered by device then time', () => {
    const { db, reopen } = useTempDatabase();
    const evidence = createEvidenceStore(db);
    for (const event of [...events].reverse()) evidence.recordConnection(event);
    const fromOtherConnection = createEvidenceStore(reopen());
    const from = at('2020-10-09T00:00:00Z');
    const to = at('2020-10-09T03:00:00Z');
    const expected = events.slice(0, 6).sort((a, b) => (a.deviceId === b.deviceId ? a.at - b.at : a.deviceId < b.deviceId ? -1 : 1));

    // Queued: visible to this store's reads, not yet in the file.
    expect(evidence.pendingWrites()).toBe(events.length);
    expect(evidence.connections(['dev-2', 'dev-1'], from, to)).toEqual(expected);
    expect(fromOtherConnection.connections(['dev-2', 'dev-1'], from, to)).toEqual([]);

    // Flushed: in the file, and read once, not twice.
    expect(evidence.flush()).toBe(events.length);
    expect(evidence.pendingWrites()).toBe(0);
    expect(fromOtherConnection.connections(['dev-2', 'dev-1'], from, to)).toEqual(expected);
    expect(evidence.connections(['dev-2', 'dev-1'], from, to)).toEqual(expected);
    expect(evidence.connections(['dev-1'], from + 1, to - 1).map((e) => e.kind)).toEqual(['takeover', 'disconnect', 'takeover']);
    expect(evidence.connections([], from, to)).toEqual([]);
  });

  it('keeps queued events when the flush fails, and stores them on the next one', () => {
    const { db } = useTempDatabase();
    const evidence = createEvidenceStore(db);
    evidence.recordConnection(events[0]!);
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON evidence_connection BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    expect(() => evidence.flush()).toThrow(/disk full/);
    evidence.recordConnection(events[1]!);
    expect(evidence.pendingWrites()).toBe(2);
    db.exec('DROP TRIGGER refuse');
    expect(evidence.flush()).toBe(2);
    const stored = db.prepare('SELECT device_id, at, kind FROM evidence_connection ORDER BY id').all();
    expect(stored).toEqual([events[0]!, events[1]!].map((e) => ({ device_id: e.deviceId, at: e.at, kind: e.kind })));
  });

  it('summarises connects, take-overs and their sources per device, with zeros for a quiet device', () => {
    const { db } = useTempDatabase();
    const evidence = createEvidenceStore(db);
    for (const event of events) evidence.recordConnection(event);
    expect(evidence.connectionSummary(['dev-3', 'dev-2', 'dev-1'], at('2020-10-09T00:00:00Z'), at('2020-10-10T00:00:00Z'))).toEqual([
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

  it('rejects an unknown event kind (poisoned input) without writing it', () => {
    const { db } = useTempDatabase();
    const evidence = createEvidenceStore(db);
    expect(() =>
      evidence.recordConnection({ deviceId: 'dev-1', at: 0, kind: 'subscribe' as ConnectionEvent['kind'], source: 'x' }),
    ).toThrow(RangeError);
    expect(() => evidence.recordConnection({ deviceId: 'dev-1', at: Number.NaN, kind: 'connect', source: 'x' })).toThrow(RangeError);
    expect(evidence.connections(['dev-1'], -1e15, 1e15)).toEqual([]);
  });
});

describe('evidence store: clock-drift sums', () => {
  it('adds segments per device-day in memory, stores them on flush, and answers with both', () => {
    const { db, reopen } = useTempDatabase();
    const evidence = createEvidenceStore(db);
    const day = Math.floor((at('2020-10-09T02:00:00Z') + 8 * 3600_000) / 86_400_000);
    const segment = { deviceId: 'dev-1', dayNumber: day, samples: 10, segments: 1, sxx: 100, sxy: 2, syy: 1 };
    evidence.addClockSegments([segment, { ...segment, samples: 5 }, { ...segment, dayNumber: day + 1 }]);
    expect(evidence.pendingWrites()).toBe(2);
    expect(evidence.flush()).toBe(2);
    evidence.addClockSegments([{ ...segment, deviceId: 'dev-2' }, segment]);
    expect(evidence.clockDays(['dev-1', 'dev-2', 'dev-3'], '2020-10-09', '2020-10-09')).toEqual(
      new Map([
        ['dev-1', [{ samples: 25, segments: 3, sxx: 300, sxy: 6, syy: 3 }]],
        ['dev-2', [{ samples: 10, segments: 1, sxx: 100, sxy: 2, syy: 1 }]],
      ]),
    );
    evidence.flush();
    db.close();
    const reopened = createEvidenceStore(reopen());
    expect(reopened.clockDays(['dev-1'], '2020-10-09', '2020-10-10').get('dev-1')).toEqual([
      { samples: 25, segments: 3, sxx: 300, sxy: 6, syy: 3 },
      { samples: 10, segments: 1, sxx: 100, sxy: 2, syy: 1 },
    ]);
  });
});
