import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { DeviceDayActivity, Heartbeat, TelemetryStore } from '../../../src/telemetry/types.js';
import { countMinutes, isMinuteSet } from '../../../src/telemetry/minute-map.js';
import { buildHeartbeat } from './fixtures.js';

/**
 * The behaviour every TelemetryStore must show (after aedes' abstract-persistence): run it
 * against each backend. `makeStore` returns a fresh, empty store and arranges its own clean-up
 * (e.g. with onTestFinished); it may be called several times in one test.
 */
export function describeTelemetryStore(name: string, makeStore: () => Promise<TelemetryStore>): void {
  const at = (iso: string): number => Date.parse(iso);

  describe(`TelemetryStore contract: ${name}`, () => {
    it('counts 60 heartbeats in one minute as one online minute and 60 heartbeats', async () => {
      const store = await makeStore();
      const minuteStart = at('2020-10-09T02:15:00Z'); // 10:15 Shanghai
      await store.append(
        Array.from({ length: 60 }, (_, i) => buildHeartbeat({ seq: i, receivedAt: minuteStart + i * 1000 })),
      );
      const [row, ...rest] = await store.dailyActivity(['dev-1'], '2020-10-09', '2020-10-09');
      expect(rest).toHaveLength(0);
      expect(row).toMatchObject({ deviceId: 'dev-1', day: '2020-10-09', heartbeats: 60, lastSeq: 59 });
      expect(countMinutes(row!.minuteMap)).toBe(1);
      expect(isMinuteSet(row!.minuteMap, 10 * 60 + 15)).toBe(true);
    });

    it('puts 23:59:59 and 00:00:00 Asia/Shanghai on different days', async () => {
      const store = await makeStore();
      const lastSecond = at('2020-10-09T15:59:59Z'); // 2020-10-09 23:59:59 +08:00
      const midnight = at('2020-10-09T16:00:00Z'); // 2020-10-10 00:00:00 +08:00
      await store.append([buildHeartbeat({ seq: 1, receivedAt: lastSecond }), buildHeartbeat({ seq: 2, receivedAt: midnight })]);
      const rows = await store.dailyActivity(['dev-1'], '2020-10-09', '2020-10-10');
      expect(rows.map((r) => [r.day, r.heartbeats, r.firstSeen, r.lastSeq])).toEqual([
        ['2020-10-09', 1, lastSecond, 1],
        ['2020-10-10', 1, midnight, 2],
      ]);
      expect(isMinuteSet(rows[0]!.minuteMap, 1439)).toBe(true);
      expect(isMinuteSet(rows[1]!.minuteMap, 0)).toBe(true);
    });

    it('takes the minute from the receive time, so a device clock in the future only grows the skew', async () => {
      const store = await makeStore();
      const receivedAt = at('2020-10-09T02:15:30Z'); // 10:15 Shanghai
      await store.append([buildHeartbeat({ receivedAt, deviceTs: receivedAt + 3 * 86_400_000 })]);
      const rows = await store.dailyActivity(['dev-1'], '2020-10-01', '2020-10-31');
      expect(rows).toHaveLength(1);
      expect(rows[0]!.day).toBe('2020-10-09');
      expect(countMinutes(rows[0]!.minuteMap)).toBe(1);
      expect(isMinuteSet(rows[0]!.minuteMap, 10 * 60 + 15)).toBe(true);
      expect(rows[0]).toMatchObject({ skewSamples: 1, skewAbsSumMs: 3 * 86_400_000 });
    });

    it('sums the absolute skew of heartbeats that carry a device time and counts coincident ones', async () => {
      const store = await makeStore();
      const t = at('2020-10-09T02:00:00Z');
      await store.append([
        buildHeartbeat({ seq: 1, receivedAt: t, deviceTs: t - 1500 }),
        buildHeartbeat({ seq: 2, receivedAt: t + 60_000, deviceTs: t + 60_000 + 500, coincident: true }),
        buildHeartbeat({ seq: 3, receivedAt: t + 120_000, coincident: true }),
      ]);
      const [row] = await store.dailyActivity(['dev-1'], '2020-10-09', '2020-10-09');
      expect(row).toMatchObject({ heartbeats: 3, skewSamples: 2, skewAbsSumMs: 2000, coincidentHeartbeats: 2 });
    });

    it('keeps first/last seen as the earliest/latest receive time and lastSeq from the latest, whatever the arrival order', async () => {
      const store = await makeStore();
      const t = at('2020-10-09T02:00:00Z');
      await store.append([buildHeartbeat({ seq: 7, receivedAt: t + 5000 })]);
      await store.append([buildHeartbeat({ seq: 9, receivedAt: t + 1000 }), buildHeartbeat({ seq: 3, receivedAt: t + 3000 })]);
      const [row] = await store.dailyActivity(['dev-1'], '2020-10-09', '2020-10-09');
      expect(row).toMatchObject({ firstSeen: t + 1000, lastSeen: t + 5000, lastSeq: 7, heartbeats: 3 });
    });

    it('takes lastSeq from the later-arriving heartbeat when receive times are equal', async () => {
      const store = await makeStore();
      const t = at('2020-10-09T02:00:00Z');
      await store.append([buildHeartbeat({ seq: 4, receivedAt: t }), buildHeartbeat({ seq: 5, receivedAt: t })]);
      expect((await store.dailyActivity(['dev-1'], '2020-10-09', '2020-10-09'))[0]!.lastSeq).toBe(5);
      await store.append([buildHeartbeat({ seq: 6, receivedAt: t })]);
      expect((await store.dailyActivity(['dev-1'], '2020-10-09', '2020-10-09'))[0]!.lastSeq).toBe(6);
    });

    it('returns the range boundaries inclusively and omits days and devices without activity', async () => {
      const store = await makeStore();
      const noonOf = (day: string): number => at(`${day}T04:00:00Z`);
      const days = ['2020-10-08', '2020-10-09', '2020-10-10', '2020-10-11', '2020-10-12'];
      await store.append(days.map((day, i) => buildHeartbeat({ seq: i, receivedAt: noonOf(day) })));
      await store.append([buildHeartbeat({ deviceId: 'dev-2', receivedAt: noonOf('2020-10-10') })]);
      const rows = await store.dailyActivity(['dev-2', 'dev-1', 'dev-unknown'], '2020-10-09', '2020-10-11');
      expect(rows.map((r) => `${r.deviceId} ${r.day}`)).toEqual([
        'dev-1 2020-10-09',
        'dev-1 2020-10-10',
        'dev-1 2020-10-11',
        'dev-2 2020-10-10',
      ]);
      expect(await store.dailyActivity(['dev-1'], '2020-10-12', '2020-10-12')).toHaveLength(1);
      expect(await store.dailyActivity(['dev-1'], '2020-10-13', '2020-10-20')).toEqual([]);
      expect(await store.dailyActivity(['dev-1'], '2020-10-11', '2020-10-09')).toEqual([]);
      expect(await store.dailyActivity([], '2020-10-01', '2020-10-31')).toEqual([]);
    });

    it('orders rows by device id, then day, whatever order the ids are asked in', async () => {
      const store = await makeStore();
      const ids = ['b', 'a', 'c-10', 'c-9'];
      await store.append(
        ids.flatMap((deviceId) => [
          buildHeartbeat({ deviceId, receivedAt: at('2020-10-10T04:00:00Z') }),
          buildHeartbeat({ deviceId, receivedAt: at('2020-10-09T04:00:00Z') }),
        ]),
      );
      const rows = await store.dailyActivity(ids, '2020-10-09', '2020-10-10');
      expect(rows.map((r) => `${r.deviceId} ${r.day}`)).toEqual([
        'a 2020-10-09',
        'a 2020-10-10',
        'b 2020-10-09',
        'b 2020-10-10',
        'c-10 2020-10-09',
        'c-10 2020-10-10',
        'c-9 2020-10-09',
        'c-9 2020-10-10',
      ]);
    });

    it('rejects a day that is not YYYY-MM-DD', async () => {
      const store = await makeStore();
      await expect(store.dailyActivity(['dev-1'], '2020-10-9', '2020-10-10')).rejects.toThrow(RangeError);
      await expect(store.dailyActivity(['dev-1'], '2020-10-09', '2020-02-30')).rejects.toThrow(RangeError);
    });

    it('reports ok health', async () => {
      const store = await makeStore();
      expect(store.health().status).toBe('ok');
    });

    it('stores the same rows whether a batch is appended at once, in pieces, or one heartbeat at a time', async () => {
      const base = at('2020-10-09T15:50:00Z'); // 23:50 Shanghai: batches straddle midnight
      const heartbeatArb = fc.record({
        deviceId: fc.constantFrom('dev-a', 'dev-b', 'dev-c'),
        seq: fc.nat({ max: 1000 }),
        // 10 s steps over 20 minutes: equal receive times happen, which exercises the lastSeq tie rule.
        offsetMs: fc.integer({ min: 0, max: 120 }).map((steps) => steps * 10_000),
        skewMs: fc.option(fc.integer({ min: -86_400_000, max: 86_400_000 }), { nil: undefined }),
        coincident: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(heartbeatArb, { minLength: 1, maxLength: 60 }),
          fc.array(fc.nat({ max: 60 }), { maxLength: 5 }),
          async (specs, cuts) => {
            const batch: Heartbeat[] = specs.map((s) =>
              buildHeartbeat({
                deviceId: s.deviceId,
                seq: s.seq,
                receivedAt: base + s.offsetMs,
                ...(s.skewMs === undefined ? {} : { deviceTs: base + s.offsetMs + s.skewMs }),
                coincident: s.coincident,
              }),
            );
            const whole = await makeStore();
            await whole.append(batch);

            const pieces = await makeStore();
            const boundaries = [...new Set([0, ...cuts.map((c) => Math.min(c, batch.length)), batch.length])].sort((a, b) => a - b);
            for (let i = 1; i < boundaries.length; i++) await pieces.append(batch.slice(boundaries[i - 1], boundaries[i]));

            const single = await makeStore();
            for (const hb of batch) await single.append([hb]);

            const ids = ['dev-a', 'dev-b', 'dev-c'];
            const expected = normalise(await single.dailyActivity(ids, '2020-10-09', '2020-10-10'));
            expect(normalise(await whole.dailyActivity(ids, '2020-10-09', '2020-10-10'))).toEqual(expected);
            expect(normalise(await pieces.dailyActivity(ids, '2020-10-09', '2020-10-10'))).toEqual(expected);
            expect(expected.reduce((sum, r) => sum + r.heartbeats, 0)).toBe(batch.length);
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}

/** Rows with plain arrays for the map, so backends returning Buffer or Uint8Array compare equal. */
function normalise(rows: DeviceDayActivity[]): Array<Omit<DeviceDayActivity, 'minuteMap'> & { minuteMap: number[] }> {
  return rows.map((r) => ({ ...r, minuteMap: [...r.minuteMap] }));
}
