/**
 * The TelemetryStore contract, one suite for every backend (STYLE: "one interface, several
 * backends, one shared test suite", as aedes' abstract-persistence): SQLite in memory and
 * without its row cache (unit), SQLite on a file and a real InfluxDB (integration). Each test
 * gets fresh, empty stores from `makeStore` and disposes of them through `cleanup`.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceDayActivity, Heartbeat, TelemetryStore } from '../../src/telemetry/types.js';
import { MINUTE_MAP_BYTES } from '../../src/telemetry/types.js';
import { addDays, shanghaiDayStart } from '../../src/time/shanghai.js';

export interface StoreUnderTest {
  store: TelemetryStore;
  cleanup(): Promise<void>;
}

export type MakeStore = () => Promise<StoreUnderTest>;

export function buildHeartbeat(overrides: Partial<Heartbeat> & { deviceId: string; receivedAt: number; seq: number }): Heartbeat {
  return { contractId: 'c1', supplierId: 's1', source: '10.0.0.1', coincident: false, ...overrides };
}

/** Shanghai wall-clock time `HH:MM:SS(.mmm)` on `day`, epoch ms. */
export function at(day: string, time: string): number {
  const [h, m, s] = time.split(':').map(Number) as [number, number, number];
  return shanghaiDayStart(day) + ((h * 60 + m) * 60 + s) * 1000;
}

/** Reference fold, written independently of either store: what dailyActivity must return. */
export function referenceActivity(heartbeats: readonly Heartbeat[]): DeviceDayActivity[] {
  const rows = new Map<string, DeviceDayActivity>();
  for (const hb of heartbeats) {
    const local = new Date(hb.receivedAt + 8 * 3600_000); // Asia/Shanghai is UTC+8, no DST
    const day = local.toISOString().slice(0, 10);
    const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
    const key = `${hb.deviceId} ${day}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        deviceId: hb.deviceId, day, minuteMap: new Uint8Array(MINUTE_MAP_BYTES), onlineMinutes: 0, heartbeats: 0,
        firstSeen: hb.receivedAt, lastSeen: hb.receivedAt, lastSeq: hb.seq,
        skewSamples: 0, skewAbsSumMs: 0, coincidentHeartbeats: 0,
      };
      rows.set(key, row);
    }
    const bit = 1 << minute % 8;
    if ((row.minuteMap![Math.floor(minute / 8)]! & bit) === 0) row.onlineMinutes++; // a minute counts once
    row.minuteMap![Math.floor(minute / 8)]! |= bit;
    row.heartbeats++;
    row.firstSeen = Math.min(row.firstSeen, hb.receivedAt);
    if (hb.receivedAt >= row.lastSeen) {
      row.lastSeen = hb.receivedAt;
      row.lastSeq = hb.seq;
    }
    if (hb.deviceTs !== undefined) {
      row.skewSamples++;
      row.skewAbsSumMs += Math.abs(hb.deviceTs - hb.receivedAt);
    }
    if (hb.coincident) row.coincidentHeartbeats++;
  }
  return sortRows([...rows.values()]);
}

export function sortRows(rows: readonly DeviceDayActivity[]): DeviceDayActivity[] {
  return [...rows].sort((a, b) => (a.deviceId + a.day < b.deviceId + b.day ? -1 : a.deviceId + a.day > b.deviceId + b.day ? 1 : 0));
}

/**
 * Rows with plain arrays instead of Uint8Array, so deep equality and diffs are readable and
 * a backend returning a Buffer or a view compares equal.
 */
export function plain(rows: readonly DeviceDayActivity[]) {
  return sortRows(rows).map((r) => ({ ...r, minuteMap: r.minuteMap === undefined ? undefined : Array.from(r.minuteMap) }));
}

function onlineMinutes(row: DeviceDayActivity | undefined): number[] {
  const minutes: number[] = [];
  if (!row) return minutes;
  if (!row.minuteMap) throw new Error(`${row.deviceId} ${row.day}: no minute map`);
  for (let m = 0; m < 1440; m++) if (row.minuteMap[m >> 3]! & (1 << (m & 7))) minutes.push(m);
  return minutes;
}

/**
 * A deterministic fleet: `devices` × `days`, a shift of heartbeats per day with bursts, gaps,
 * device clocks (some skewed, some absent), coincident flags and same-millisecond pairs.
 */
export function buildFleetScenario(devices: number, days: number, firstDay = '2020-10-01'): Heartbeat[] {
  const out: Heartbeat[] = [];
  let rnd = 12345;
  const random = () => ((rnd = (rnd * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < devices; i++) {
    const deviceId = `dev${String(i).padStart(4, '0')}`;
    let seq = 0;
    for (let d = 0; d < days; d++) {
      if (random() < 0.1) continue; // a day off
      const start = shanghaiDayStart(addDays(firstDay, d)) + Math.floor(random() * 20 * 3600_000);
      const count = 20 + Math.floor(random() * 100);
      let t = start;
      for (let k = 0; k < count; k++) {
        t += Math.floor(random() * 110_000);
        const hb = buildHeartbeat({ deviceId, contractId: `c${i % 7}`, supplierId: `s${i % 3}`, seq: ++seq, receivedAt: t, coincident: random() < 0.05 });
        if (random() < 0.7) hb.deviceTs = t + Math.floor((random() - 0.5) * 4000);
        out.push(hb);
        if (random() < 0.03) out.push({ ...hb, seq: ++seq }); // same device, same millisecond
      }
    }
  }
  return out.sort((a, b) => a.receivedAt - b.receivedAt || a.seq - b.seq);
}

export async function appendInBatches(store: TelemetryStore, heartbeats: readonly Heartbeat[], size = 500): Promise<void> {
  for (let i = 0; i < heartbeats.length; i += size) await store.append(heartbeats.slice(i, i + size));
}

export function describeTelemetryStore(name: string, makeStore: MakeStore): void {
  describe(`TelemetryStore contract: ${name}`, () => {
    let opened: StoreUnderTest[] = [];
    /** A fresh, empty store; several per test are fine, all cleaned up after it. */
    const open = async (): Promise<TelemetryStore> => {
      const made = await makeStore();
      opened.push(made);
      return made.store;
    };
    const cleanupAll = async (): Promise<void> => {
      const made = opened;
      opened = [];
      for (const m of made) await m.cleanup();
    };
    afterEach(cleanupAll);

    it('returns the exact minute map and counters: absolute skew summed over heartbeats with a device time, coincident ones counted', async () => {
      const store = await open();
      const day = '2020-10-09';
      await store.append([
        buildHeartbeat({ deviceId: 'd1', seq: 1, receivedAt: at(day, '08:00:05'), deviceTs: at(day, '08:00:05') - 1500, status: 'running', metrics: { spindleRpm: 1200 } }),
        buildHeartbeat({ deviceId: 'd1', seq: 2, receivedAt: at(day, '08:01:05'), deviceTs: at(day, '08:01:05') + 500, coincident: true }),
        buildHeartbeat({ deviceId: 'd1', seq: 3, receivedAt: at(day, '09:30:00'), coincident: true }),
      ]);
      const rows = await store.dailyActivity(['d1'], day, day);
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(onlineMinutes(row)).toEqual([480, 481, 570]);
      expect(row).toMatchObject({
        deviceId: 'd1', day, heartbeats: 3, firstSeen: at(day, '08:00:05'), lastSeen: at(day, '09:30:00'), lastSeq: 3,
        skewSamples: 2, skewAbsSumMs: 1500 + 500, coincidentHeartbeats: 2,
      });
      expect(row.minuteMap).toBeInstanceOf(Uint8Array);
      expect(row.minuteMap!.length).toBe(MINUTE_MAP_BYTES);
    });

    it('counts 60 heartbeats within one minute as one online minute', async () => {
      const store = await open();
      const day = '2020-10-09';
      const burst = Array.from({ length: 60 }, (_, k) => buildHeartbeat({ deviceId: 'burst', seq: k + 1, receivedAt: at(day, '10:15:00') + k * 1000 }));
      await store.append(burst);
      const rows = await store.dailyActivity(['burst'], day, day);
      expect(rows).toHaveLength(1);
      expect(onlineMinutes(rows[0])).toEqual([615]);
      expect(rows[0]).toMatchObject({ heartbeats: 60, lastSeq: 60 });
    });

    it('puts 23:59:59.999 and 00:00:00 Shanghai time on different days', async () => {
      const store = await open();
      const lastMs = at('2020-10-09', '23:59:59') + 999;
      const midnight = at('2020-10-10', '00:00:00');
      await store.append([buildHeartbeat({ deviceId: 'd1', seq: 1, receivedAt: lastMs }), buildHeartbeat({ deviceId: 'd1', seq: 2, receivedAt: midnight })]);
      const rows = await store.dailyActivity(['d1'], '2020-10-09', '2020-10-10');
      expect(rows.map((r) => [r.day, onlineMinutes(r), r.heartbeats, r.firstSeen, r.lastSeq])).toEqual([
        ['2020-10-09', [1439], 1, lastMs, 1],
        ['2020-10-10', [0], 1, midnight, 2],
      ]);
    });

    it('places a heartbeat by receive time even when the device clock is in the future; the clock only grows the skew', async () => {
      const store = await open();
      const receivedAt = at('2020-10-09', '12:00:30');
      await store.append([buildHeartbeat({ deviceId: 'liar', seq: 1, receivedAt, deviceTs: receivedAt + 3 * 86_400_000 })]);
      expect(await store.dailyActivity(['liar'], '2020-10-12', '2020-10-12')).toEqual([]);
      const rows = await store.dailyActivity(['liar'], '2020-10-01', '2020-10-31');
      expect(rows.map((r) => [r.day, onlineMinutes(r)])).toEqual([['2020-10-09', [720]]]);
      expect(rows[0]).toMatchObject({ skewSamples: 1, skewAbsSumMs: 3 * 86_400_000 });
    });

    it('accumulates a device-day over many batches: first/last seen and lastSeq follow receive times, whatever the arrival order', async () => {
      const store = await open();
      const day = '2020-10-09';
      await store.append([buildHeartbeat({ deviceId: 'd1', seq: 7, receivedAt: at(day, '10:00:30') })]);
      // Late arrivals with higher seqs: neither may take lastSeen or lastSeq.
      await store.append([
        buildHeartbeat({ deviceId: 'd1', seq: 9, receivedAt: at(day, '09:00:00'), coincident: true }),
        buildHeartbeat({ deviceId: 'd1', seq: 3, receivedAt: at(day, '09:30:00') }),
      ]);
      await store.append([buildHeartbeat({ deviceId: 'd1', seq: 8, receivedAt: at(day, '10:00:00'), deviceTs: at(day, '10:00:01') })]);
      const [row] = await store.dailyActivity(['d1'], day, day);
      expect(onlineMinutes(row)).toEqual([540, 570, 600]);
      expect(row).toMatchObject({
        heartbeats: 4, firstSeen: at(day, '09:00:00'), lastSeen: at(day, '10:00:30'), lastSeq: 7,
        skewSamples: 1, skewAbsSumMs: 1000, coincidentHeartbeats: 1,
      });
    });

    it('keeps every heartbeat of one device received in the same millisecond, lastSeq from the later-arriving one', async () => {
      const store = await open();
      const t = at('2020-10-09', '08:00:00') + 123;
      const row = async () => (await store.dailyActivity(['d1'], '2020-10-09', '2020-10-09'))[0];
      await store.append([buildHeartbeat({ deviceId: 'd1', seq: 7, receivedAt: t }), buildHeartbeat({ deviceId: 'd1', seq: 8, receivedAt: t })]);
      expect(await row()).toMatchObject({ heartbeats: 2, lastSeq: 8 });
      // A restarted device counts seq from 1 again: arrival, not the larger seq, decides the tie.
      await store.append([buildHeartbeat({ deviceId: 'd1', seq: 1, receivedAt: t })]);
      expect(await row()).toMatchObject({ heartbeats: 3, firstSeen: t, lastSeen: t, lastSeq: 1 });
      expect(onlineMinutes(await row())).toEqual([480]);
    });

    it('treats the day range as inclusive at both ends and omits days and devices without activity', async () => {
      const store = await open();
      const days = ['2020-10-08', '2020-10-09', '2020-10-10', '2020-10-11', '2020-10-12'];
      await store.append(days.map((day, k) => buildHeartbeat({ deviceId: 'd1', seq: k + 1, receivedAt: at(day, '12:00:00') })));
      await store.append([buildHeartbeat({ deviceId: 'd2', seq: 1, receivedAt: at('2020-10-10', '12:00:00') })]);
      const rows = await store.dailyActivity(['d2', 'd1', 'd3'], '2020-10-09', '2020-10-11');
      expect(rows.map((r) => `${r.deviceId} ${r.day}`)).toEqual(['d1 2020-10-09', 'd1 2020-10-10', 'd1 2020-10-11', 'd2 2020-10-10']);
      expect(await store.dailyActivity(['d1'], '2020-10-12', '2020-10-12')).toHaveLength(1);
      expect(await store.dailyActivity(['d1'], '2020-10-13', '2020-10-20')).toEqual([]);
      expect(await store.dailyActivity(['d1'], '2020-10-11', '2020-10-09')).toEqual([]);
    });

    it('returns nothing for unknown device ids (not even prefixes or extensions of known ones) and for an empty id list', async () => {
      const store = await open();
      await store.append([buildHeartbeat({ deviceId: 'known', seq: 1, receivedAt: at('2020-10-09', '08:00:00') })]);
      expect(await store.dailyActivity(['unknown', 'knownx', 'know'], '2020-10-01', '2020-10-31')).toEqual([]);
      expect(await store.dailyActivity([], '2020-10-01', '2020-10-31')).toEqual([]);
      expect(await store.dailyActivity(['known', 'unknown'], '2020-10-01', '2020-10-31')).toHaveLength(1);
    });

    it('orders rows by device id, then day, whatever order the ids are asked in', async () => {
      const store = await open();
      const ids = ['b', 'a', 'c-10', 'c-9'];
      await store.append(
        ids.flatMap((deviceId) => [
          buildHeartbeat({ deviceId, seq: 2, receivedAt: at('2020-10-10', '12:00:00') }),
          buildHeartbeat({ deviceId, seq: 1, receivedAt: at('2020-10-09', '12:00:00') }),
        ]),
      );
      const rows = await store.dailyActivity(ids, '2020-10-09', '2020-10-10');
      // JS string order ('c-10' < 'c-9'), the same on every backend.
      expect(rows.map((r) => `${r.deviceId} ${r.day}`)).toEqual([
        'a 2020-10-09', 'a 2020-10-10', 'b 2020-10-09', 'b 2020-10-10',
        'c-10 2020-10-09', 'c-10 2020-10-10', 'c-9 2020-10-09', 'c-9 2020-10-10',
      ]);
    });

    it('rejects a day that is not YYYY-MM-DD', async () => {
      const store = await open();
      await expect(store.dailyActivity(['d1'], '2020-10-9', '2020-10-10')).rejects.toThrow(RangeError);
      await expect(store.dailyActivity(['d1'], '2020-10-09', '2020-02-30')).rejects.toThrow(RangeError);
    });

    it('stores the same rows whether a batch is appended at once, in pieces, or one heartbeat at a time', async () => {
      const base = at('2020-10-09', '23:50:00'); // batches straddle midnight
      const ids = ['dev-a', 'dev-b', 'dev-c'];
      const heartbeatArb = fc.record({
        deviceId: fc.constantFrom(...ids),
        seq: fc.nat({ max: 1000 }),
        // 10 s steps over 20 minutes: equal receive times happen, which exercises the lastSeq tie rule.
        offsetMs: fc.integer({ min: 0, max: 120 }).map((steps) => steps * 10_000),
        skewMs: fc.option(fc.integer({ min: -86_400_000, max: 86_400_000 }), { nil: undefined }),
        coincident: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(heartbeatArb, { minLength: 1, maxLength: 60 }), fc.array(fc.nat({ max: 60 }), { maxLength: 5 }), async (specs, cuts) => {
          const batch: Heartbeat[] = specs.map((s) =>
            buildHeartbeat({
              deviceId: s.deviceId,
              seq: s.seq,
              receivedAt: base + s.offsetMs,
              ...(s.skewMs === undefined ? {} : { deviceTs: base + s.offsetMs + s.skewMs }),
              coincident: s.coincident,
            }),
          );
          try {
            const whole = await open();
            await whole.append(batch);

            const pieces = await open();
            const boundaries = [...new Set([0, ...cuts.map((c) => Math.min(c, batch.length)), batch.length])].sort((a, b) => a - b);
            for (let i = 1; i < boundaries.length; i++) await pieces.append(batch.slice(boundaries[i - 1], boundaries[i]));

            const single = await open();
            for (const hb of batch) await single.append([hb]);

            const expected = plain(await single.dailyActivity(ids, '2020-10-09', '2020-10-10'));
            expect(plain(await whole.dailyActivity(ids, '2020-10-09', '2020-10-10'))).toEqual(expected);
            expect(plain(await pieces.dailyActivity(ids, '2020-10-09', '2020-10-10'))).toEqual(expected);
            expect(expected).toEqual(plain(referenceActivity(batch)));
          } finally {
            await cleanupAll(); // per run, so a long property does not pile up stores (InfluxDB databases)
          }
        }),
        // Three stores per run: modest, so the property stays quick on a real InfluxDB too.
        { numRuns: 25 },
      );
    });

    it('answers 300 devices × 3 days exactly as a reference fold of the heartbeats', async () => {
      const store = await open();
      const heartbeats = buildFleetScenario(300, 3);
      await appendInBatches(store, heartbeats, 2000);
      const ids = Array.from({ length: 300 }, (_, i) => `dev${String(i).padStart(4, '0')}`);
      const rows = await store.dailyActivity(ids, '2020-10-01', '2020-10-03');
      expect(plain(rows)).toEqual(plain(referenceActivity(heartbeats)));
    });

    it('may leave out the minute maps of days before minuteMapsFrom, never their online minutes', async () => {
      const store = await open();
      const heartbeats = buildFleetScenario(50, 3);
      await appendInBatches(store, heartbeats, 2000);
      const ids = Array.from({ length: 50 }, (_, i) => `dev${String(i).padStart(4, '0')}`);
      const rows = await store.dailyActivity(ids, '2020-10-01', '2020-10-03', { minuteMapsFrom: '2020-10-03' });
      const reference = referenceActivity(heartbeats);
      const withoutMaps = (list: readonly DeviceDayActivity[]) => sortRows(list).map(({ minuteMap: _map, ...counts }) => counts);
      expect(withoutMaps(rows)).toEqual(withoutMaps(reference));
      const lastDay = sortRows(rows).filter((r) => r.day === '2020-10-03');
      expect(lastDay.length).toBeGreaterThan(0);
      expect(plain(lastDay)).toEqual(plain(reference.filter((r) => r.day === '2020-10-03')));
    });

    it('reports ok health while its backend is up, empty or not', async () => {
      const store = await open();
      expect(store.health()).toMatchObject({ status: 'ok' });
      await store.append([buildHeartbeat({ deviceId: 'd1', seq: 1, receivedAt: at('2020-10-09', '08:00:00') })]);
      expect(store.health()).toMatchObject({ status: 'ok' });
    });
  });
}
