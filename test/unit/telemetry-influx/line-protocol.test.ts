/**
 * The 1.x store serialises its write body itself (line-protocol.ts) instead of handing point
 * objects to the `influx` package's writePoints. These tests hold it to what writePoints
 * produced from the same heartbeats and rollups with the schemas the store registered before:
 * byte-identical bodies (so InfluxDB stores exactly the same points), escapes, collisions and
 * odd inputs included, and the same HTTP request (path, query, auth, body) on the wire.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FieldType, InfluxDB, type IPoint } from 'influx';
import { afterEach, describe, expect, it } from 'vitest';
import { createInfluxTelemetryStore } from '../../../src/telemetry/influx/influx-telemetry-store.js';
import { LineEncoder, nsTimestampFast } from '../../../src/telemetry/influx/line-protocol.js';
import { HEARTBEAT_MEASUREMENT, nsTimestamp } from '../../../src/telemetry/influx/points.js';
import { ACTIVITY_MEASUREMENT, RollupState, type DayRollup } from '../../../src/telemetry/influx/rollup.js';
import {
  ACTIVITY_INTEGER_FIELDS,
  ACTIVITY_STRING_FIELDS,
  INTEGER_FIELDS,
  STRING_FIELDS,
  TAGS,
  rollupPoint,
  toHeartbeatPoints,
  type LinePoint,
} from '../../support/influx-points-oracle.js';
import type { Heartbeat, HeartbeatStatus } from '../../../src/telemetry/types.js';

const DB = 'db';
const RP = 'gateway';

/** The store's former write path: points.ts points → IPoint → writePoints with the store's schemas. */
function referenceInflux(heartbeats: readonly Heartbeat[], rollups: readonly DayRollup[]): { influx: InfluxDB; points: IPoint[] } {
  const influx = new InfluxDB({ host: '127.0.0.1', port: 1, database: DB });
  const hbPoints = toHeartbeatPoints(heartbeats);
  const fields: Record<string, FieldType> = {};
  for (const f of INTEGER_FIELDS) fields[f] = FieldType.INTEGER;
  for (const f of STRING_FIELDS) fields[f] = FieldType.STRING;
  for (const p of hbPoints) for (const name of Object.keys(p.floatFields)) fields[name] = FieldType.FLOAT;
  influx.addSchema({ database: DB, measurement: HEARTBEAT_MEASUREMENT, tags: [...TAGS], fields });
  const activityFields: Record<string, FieldType> = {};
  for (const f of ACTIVITY_INTEGER_FIELDS) activityFields[f] = FieldType.INTEGER;
  for (const f of ACTIVITY_STRING_FIELDS) activityFields[f] = FieldType.STRING;
  influx.addSchema({ database: DB, measurement: ACTIVITY_MEASUREMENT, tags: ['device'], fields: activityFields });
  return { influx, points: [...hbPoints.map(toIPoint), ...rollups.map((r) => toIPoint(rollupPoint(r)))] };
}

function toIPoint(p: LinePoint): IPoint {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.tags)) if (v !== '') tags[k] = v;
  return { measurement: p.measurement, tags, fields: { ...p.intFields, ...p.floatFields, ...p.stringFields }, timestamp: p.timestampNs };
}

async function referenceBody(heartbeats: readonly Heartbeat[], rollups: readonly DayRollup[]): Promise<string> {
  const { influx, points } = referenceInflux(heartbeats, rollups);
  let body: string | undefined;
  (influx as unknown as { _pool: { discard(o: { body: string }): Promise<void> } })._pool.discard = (o) => {
    body = o.body;
    return Promise.resolve();
  };
  await influx.writePoints(points, { database: DB, retentionPolicy: RP, precision: 'n' });
  return body!;
}

function encoderBody(encoder: LineEncoder, heartbeats: readonly Heartbeat[], rollups: readonly DayRollup[]): string {
  let body = encoder.heartbeats(heartbeats);
  for (const r of rollups) body += `\n${encoder.rollup(r)}`;
  return body;
}

const t = Date.UTC(2020, 9, 9, 0, 0, 0, 123);
const hb = (o: Partial<Heartbeat> = {}): Heartbeat => ({ deviceId: 'd1', contractId: 'c1', supplierId: 's1', seq: 1, receivedAt: t, source: '10.0.0.1', coincident: false, ...o });

/** Rollup points of the first Shanghai day would lie before the epoch; writing them was refused before as now. */
const withRollup = (h: Heartbeat) => h.receivedAt >= 8 * 3_600_000;

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('line protocol of the 1.x store', () => {
  it('is byte for byte what writePoints wrote for the benchmark-shaped heartbeats and their rollups', async () => {
    const batch = Array.from({ length: 300 }, (_, i) =>
      hb({ deviceId: `dv_bench${String(i % 120).padStart(12, '0')}`, seq: i, receivedAt: t + (i >> 4), deviceTs: t - 3, status: 'running', metrics: { spindleRpm: 1200 + (i % 50) }, source: `127.1.0.${(i % 100) + 1}`, coincident: i % 7 === 0 }),
    );
    const rollups = new RollupState(t, 1000, 12_345).plan(batch);
    const encoder = new LineEncoder();
    const expected = await referenceBody(batch, rollups);
    expect(encoderBody(encoder, batch, rollups)).toBe(expected);
    // Again with the caches warm.
    expect(encoderBody(encoder, batch, rollups)).toBe(expected);
  });

  it('escapes, quotes, drops and orders exactly as the package did', async () => {
    const batch: Heartbeat[] = [
      hb({ deviceId: 'a b,c=d', contractId: 'c "1"', supplierId: "s\\'x", source: 'x"y\\z', status: 'we ird' as HeartbeatStatus }),
      hb({ deviceId: "it's\\", contractId: '', supplierId: '', source: '', metrics: { 'b c': 1, a: -0, 'z=1': 1e21, ',': 1.5e-7, é: Number.NaN, inf: Number.POSITIVE_INFINITY, '10': 3 } }),
      hb({ deviceId: 'd1', status: null as unknown as HeartbeatStatus, deviceTs: Number.NaN, seq: -17 }),
      hb({ deviceId: 'd1', seq: 999_999, deviceTs: t + 0.5, metrics: null as unknown as Record<string, number> }),
      hb({ deviceId: 'd1', seq: 1_999_999, deviceTs: t - 2.5 }), // collides with the one above: next free ns wraps to 0
      hb({ deviceId: 'd1', seq: 0 }), // and this one then moves to 1
      hb({ deviceId: 'zero', receivedAt: 0, seq: 42 }),
      hb({ deviceId: 'zero', receivedAt: 0, seq: 0 }),
      hb({ deviceId: 'big', seq: Number.MAX_SAFE_INTEGER, receivedAt: 8_640_000_000_000 }),
      hb({ deviceId: 'line\nbreak', metrics: { 'new\nline': 2 } }),
    ];
    const rollups = new RollupState(0, 1000, 0).plan(batch.filter(withRollup));
    expect(encoderBody(new LineEncoder(), batch, rollups)).toBe(await referenceBody(batch, rollups));
  });

  it('agrees with writePoints on 2,000 random batches (awkward characters, collisions, missing fields)', async () => {
    const random = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const chars = ['a', 'b', ',', '=', ' ', '\\', "'", '"', 'é', '|', '1'];
    const str = (max: number) => Array.from({ length: Math.floor(random() * max) }, () => pick(chars)).join('');
    const devices = Array.from({ length: 6 }, () => str(5) || 'd');
    const values = [0, -0, 1, -1, 3.25, 1e21, -1e-7, 123456789.123, Number.NaN, Number.NEGATIVE_INFINITY];
    const encoder = new LineEncoder(); // shared: caches carry over between batches
    for (let round = 0; round < 2000; round++) {
      const batch = Array.from({ length: 1 + Math.floor(random() * 12) }, (): Heartbeat => {
        const metrics: Record<string, number> = {};
        for (let m = Math.floor(random() * 4); m > 0; m--) metrics[str(4) || 'm'] = pick(values);
        return {
          deviceId: pick(devices),
          contractId: pick(['', 'c1', 'c 2', str(3)]),
          supplierId: pick(['', 's1', str(3)]),
          seq: pick([0, 1, 2, 1_000_001, -3, 999_999, Math.floor(random() * 5_000_000)]),
          receivedAt: pick([0, t, t, t + 1, t + 86_400_000]),
          ...(random() < 0.7 ? { deviceTs: pick([t, t - 1.5, t + 1e6, Number.NaN, 0]) } : {}),
          ...(random() < 0.8 ? { status: pick(['running', 'idle', 'fault', 'off', str(3)]) as HeartbeatStatus } : {}),
          ...(random() < 0.8 ? { metrics } : {}),
          source: pick(['', '10.0.0.1', str(4)]),
          coincident: random() < 0.3,
        };
      });
      const rollups = new RollupState(t, 1000, Math.floor(random() * 1e6)).plan(batch.filter(withRollup));
      const got = encoderBody(encoder, batch, rollups);
      const want = await referenceBody(batch, rollups);
      if (got !== want) expect({ round, batch, got }).toEqual({ round, batch, got: want });
    }
  }, 60_000); // 2,000 batches: seconds on a busy 2-core machine

  it('moves many same-millisecond heartbeats of one device to free nanoseconds as before', async () => {
    // Beyond the linear scan: the per-device set takes over and must agree.
    const batch = Array.from({ length: 300 }, (_, i) => hb({ seq: i % 3 === 0 ? 5 : 5 + 1_000_000 * i }));
    const offsets = new LineEncoder()
      .heartbeats(batch)
      .split('\n')
      .map((line) => line.slice(line.lastIndexOf(' ') + 1));
    expect(new Set(offsets).size).toBe(300);
    expect(offsets).toEqual(toHeartbeatPoints(batch).map((p) => p.timestampNs));
  });

  it('writes ns timestamps like nsTimestamp without BigInt', () => {
    for (const ms of [0, 1, 7, t, 8_640_000_000_000]) for (const off of [0, 1, 9, 10, 99, 100, 12_345, 99_999, 100_000, 999_999]) expect(nsTimestampFast(ms, off)).toBe(nsTimestamp(ms, off));
  });
});

describe('the 1.x store write request', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  interface Captured { url: string; headers: IncomingMessage['headers']; body: string }

  /** A stand-in InfluxDB 1.x: answers the start-up queries, records writes, 204s them. */
  async function fakeInflux(): Promise<{ port: number; writes: Captured[] }> {
    const writes: Captured[] = [];
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (req.url!.startsWith('/write')) {
          writes.push({ url: req.url!, headers: req.headers, body });
          res.writeHead(204).end();
          return;
        }
        const q = new URLSearchParams(req.url!.split('?')[1] ?? '').get('q') ?? new URLSearchParams(body).get('q') ?? '';
        const result = /SHOW RETENTION POLICIES/i.test(q)
          ? { statement_id: 0, series: [{ columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'], values: [[RP, '0s', '168h0m0s', 1, true]] }] }
          : { statement_id: 0 };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: [result] }));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    return { port: (server!.address() as AddressInfo).port, writes };
  }

  it('sends what writePoints sent: POST /write?db&precision=n&rp, the same auth and body', async () => {
    const { port, writes } = await fakeInflux();
    const batch = [hb({ seq: 3, deviceTs: t + 1500, metrics: { rpm: 3, temp: 36.5 }, status: 'running' }), hb({ deviceId: 'd 2', seq: 4, coincident: true })];
    for (const url of [`http://127.0.0.1:${port}/${DB}`, `http://user:p%40ss@127.0.0.1:${port}/${DB}`]) {
      writes.length = 0;
      const store = await createInfluxTelemetryStore({ url, retentionDays: 0, bufferMax: 200_000, pingIntervalMs: 0 });
      await store.append(batch);
      await store.close();
      expect(writes).toHaveLength(1);
      const [ours] = writes.splice(0);

      // The same heartbeats through the package's writePoints, to the same server.
      const { points } = referenceInflux(batch, []);
      const rollupLines = ours!.body.split('\n').filter((l) => l.startsWith(`${ACTIVITY_MEASUREMENT},`));
      const parsed = new URL(url);
      const { influx } = referenceInflux(batch, []);
      const withAuth = parsed.username
        ? new InfluxDB({ host: '127.0.0.1', port, database: DB, username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) })
        : new InfluxDB({ host: '127.0.0.1', port, database: DB });
      (withAuth as unknown as { _schema: unknown })._schema = (influx as unknown as { _schema: unknown })._schema;
      await withAuth.writePoints(points, { database: DB, retentionPolicy: RP, precision: 'n' });
      const [theirs] = writes;
      expect(ours!.url).toBe(theirs!.url);
      expect(ours!.headers.authorization).toBe(theirs!.headers.authorization);
      expect(ours!.headers['content-length']).toBe(String(Buffer.byteLength(ours!.body)));
      // Ours also carries the device-day rollups (one per device-day here) after the raw points.
      expect(ours!.body).toBe([theirs!.body, ...rollupLines].join('\n'));
      expect(rollupLines).toHaveLength(2);
    }
  });
});
