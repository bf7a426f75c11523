import { describe, expect, it } from 'vitest';
import { activityQuery, rollupQuery } from '../../../src/telemetry/influx/influx-telemetry-store.js';
import { LineEncoder, escapeTag, quoteField } from '../../../src/telemetry/influx/line-protocol.js';
import { nsTimestamp } from '../../../src/telemetry/influx/points.js';
import { RollupState, mergeRollups, type RollupRow } from '../../../src/telemetry/influx/rollup.js';
import { parseInfluxUrl } from '../../../src/telemetry/influx/url.js';
import type { Heartbeat } from '../../../src/telemetry/types.js';

const t = Date.UTC(2020, 9, 9, 0, 0, 0, 123);
const hb = (o: Partial<Heartbeat> = {}): Heartbeat => ({ deviceId: 'd1', contractId: 'c1', supplierId: 's1', seq: 1, receivedAt: t, source: '10.0.0.1', coincident: false, ...o });
const lines = (batch: Heartbeat[]): string[] => new LineEncoder().heartbeats(batch).split('\n');
const timestampOf = (line: string): string => line.slice(line.lastIndexOf(' ') + 1);

describe('heartbeat points', () => {
  it('writes receivedAt in ms with seq mod 10⁶ in the nanosecond digits', () => {
    expect(nsTimestamp(t, 17)).toBe(`${t}000017`);
    expect(lines([hb({ seq: 2_000_017 })]).map(timestampOf)).toEqual([`${t}000017`]);
  });

  it('moves a same-device, same-ms, same-offset heartbeat in one batch to the next free nanosecond', () => {
    const written = lines([hb({ seq: 5 }), hb({ seq: 1_000_005 }), hb({ seq: 5, deviceId: 'd2' })]);
    expect(written.map(timestampOf)).toEqual([`${t}000005`, `${t}000006`, `${t}000005`]);
  });

  it('types seq, skew and coincident as integers and metrics always as floats', () => {
    const [line] = lines([hb({ seq: 3, deviceTs: t + 1500, metrics: { rpm: 3, temp: 36.5 }, coincident: true })]);
    expect(line).toBe(`heartbeat,device=d1,contract=c1,supplier=s1 coincident=1i,m.rpm=3,m.temp=36.5,seq=3i,skewAbsMs=1500i,skewMs=1500i,source="10.0.0.1" ${t}000003`);
  });

  it('omits skew fields without a device ts and drops non-finite metrics', () => {
    const [line] = lines([hb({ metrics: { bad: Number.NaN } })]);
    expect(line).toMatch(/^heartbeat,device=d1/);
    expect(line).not.toMatch(/skew|m\.bad/);
  });

  it('escapes tag keys/values and string fields per the line protocol', () => {
    expect(escapeTag('a b,c=d')).toBe('a\\ b\\,c\\=d');
    expect(quoteField('say "hi" \\')).toBe('"say \\"hi\\" \\\\"');
  });

  it('anchors and escapes device ids in the activity regexes', () => {
    expect(activityQuery('gateway', ['d1', 'a.b/c'], 0, 1)).toContain('"device" =~ /^(?:d1|a\\.b\\/c)$/');
    expect(rollupQuery('gateway', ['d1'], 0, 86_400_000)).toContain('FROM "gateway"."activity" WHERE "device" =~ /^(?:d1)$/ AND time >= 0ms AND time < 86400000ms');
  });
});

describe('device-day rollups', () => {
  it('plans cumulative snapshots from committed state and commits only what was acknowledged', () => {
    const state = new RollupState(0, 10, 0);
    const first = state.plan([hb({ seq: 1 }), hb({ seq: 2, receivedAt: t + 60_000, deviceTs: t + 60_500 })]);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ heartbeats: 2, lastSeq: 2, skewSamples: 1, skewAbsSumMs: 500 });
    // Not committed (write failed): the next plan starts from nothing again.
    expect(state.plan([hb({ seq: 3 })])[0]!.heartbeats).toBe(1);
    state.commit(first);
    const second = state.plan([hb({ seq: 3, receivedAt: t + 120_000 })]);
    expect(second[0]).toMatchObject({ heartbeats: 3, lastSeq: 3, offsetNs: first[0]!.offsetNs });
  });

  it('gives a device-day evicted from memory a new point, and merging adds the generations up', () => {
    const state = new RollupState(0, 1, 0);
    const a = state.plan([hb({ seq: 1 })]);
    state.commit(a);
    state.commit(state.plan([hb({ deviceId: 'd2' })])); // evicts d1's day
    const b = state.plan([hb({ seq: 2, receivedAt: t + 60_000 })]);
    expect(b[0]!.offsetNs).not.toBe(a[0]!.offsetNs);
    const rows: RollupRow[] = [...a, ...b].map((r) => ({
      deviceId: 'd1',
      time: Number(BigInt(r.timestampNs) / 1_000_000n),
      minuteMap: Buffer.from(r.minuteMap).toString('base64'),
      heartbeats: r.heartbeats,
      firstSeen: r.firstSeen,
      lastSeen: r.lastSeen,
      lastSeq: r.lastSeq,
      skewSamples: r.skewSamples,
      skewAbsSumMs: r.skewAbsSumMs,
      coincident: r.coincident,
    }));
    const [merged] = mergeRollups(rows);
    expect(merged).toMatchObject({ deviceId: 'd1', day: '2020-10-09', heartbeats: 2, firstSeen: t, lastSeen: t + 60_000, lastSeq: 2 });
    expect(Array.from(merged!.minuteMap!.slice(60, 61))).toEqual([0b11]); // 08:00 and 08:01 → minutes 480, 481
  });

  it('places the rollup point inside its Shanghai day', () => {
    const [r] = new RollupState(Date.UTC(2020, 0, 1, 23, 59, 59, 999), 10, 999_999).plan([hb()]);
    const ms = Number(BigInt(r!.timestampNs) / 1_000_000n);
    expect(ms).toBeGreaterThanOrEqual(Date.UTC(2020, 9, 8, 16));
    expect(ms).toBeLessThan(Date.UTC(2020, 9, 9, 16));
  });
});

describe('GATEWAY_INFLUX_URL', () => {
  it('takes the database from the path and credentials from the user info', () => {
    expect(parseInfluxUrl('http://u:p%40ss@influxdb:8086/heartbeats')).toEqual({
      protocol: 'http', host: 'influxdb', port: 8086, database: 'heartbeats', username: 'u', password: 'p@ss', display: 'http://influxdb:8086/heartbeats',
    });
  });

  it('refuses a URL without a database', () => {
    expect(() => parseInfluxUrl('http://127.0.0.1:8086/')).toThrow(/database/);
    expect(() => parseInfluxUrl('ftp://x/db')).toThrow(/http/);
  });
});
