/**
 * InfluxDB query results → DeviceDayActivity rows, pure. Day and minute come from the
 * receive time (the point's time, returned at `epoch=ms`), with the same Shanghai arithmetic
 * as the SQLite store, so both stores give identical rows for identical heartbeats.
 */
import { dayNumberToString, shanghaiDayNumber, shanghaiMinuteOfDay } from '../../time/shanghai.js';
import { countMinutes } from '../../activity/index.js';
import { MINUTE_MAP_BYTES, type DeviceDayActivity } from '../types.js';

/** One raw heartbeat as the activity query returns it. */
export interface RawActivityPoint {
  /** Receive time, epoch ms. */
  time: number;
  seq: number;
  /** |deviceTs − receivedAt|, absent when the heartbeat carried no device ts. */
  skewAbsMs: number | null;
  coincident: number | null;
}

/**
 * Folds one device's heartbeats (in time order, same-ms points in write order) into one row
 * per Shanghai day. On equal receive times the later point supplies lastSeq, as in SQLite.
 */
export class ActivityFolder {
  readonly #rows = new Map<string, RowInProgress>();

  add(deviceId: string, point: RawActivityPoint): void {
    const dayNumber = shanghaiDayNumber(point.time);
    const minute = shanghaiMinuteOfDay(point.time);
    const key = `${deviceId}|${dayNumber}`;
    let row = this.#rows.get(key);
    if (row === undefined) {
      row = {
        deviceId,
        day: dayNumberToString(dayNumber),
        dayNumber,
        minuteMap: new Uint8Array(MINUTE_MAP_BYTES),
        heartbeats: 0,
        firstSeen: point.time,
        lastSeen: point.time,
        lastSeq: point.seq,
        skewSamples: 0,
        skewAbsSumMs: 0,
        coincidentHeartbeats: 0,
      };
      this.#rows.set(key, row);
    }
    row.minuteMap[minute >> 3]! |= 1 << (minute & 7);
    row.heartbeats += 1;
    if (point.time < row.firstSeen) row.firstSeen = point.time;
    if (point.time >= row.lastSeen) {
      row.lastSeen = point.time;
      row.lastSeq = point.seq;
    }
    if (point.skewAbsMs !== null && point.skewAbsMs !== undefined) {
      row.skewSamples += 1;
      row.skewAbsSumMs += point.skewAbsMs;
    }
    if (point.coincident) row.coincidentHeartbeats += 1;
  }

  rows(): DeviceDayActivity[] {
    return finishRows(this.#rows.values());
  }
}

/** A row being built from InfluxDB answers: its minute map always there, its day number kept for ordering. */
export type RowInProgress = Omit<DeviceDayActivity, 'minuteMap' | 'onlineMinutes'> & { minuteMap: Uint8Array; dayNumber: number };

/** Finished rows, ordered by device then day (the order SQLite returns them in), online minutes counted from the maps. */
export function finishRows(rows: Iterable<RowInProgress>): DeviceDayActivity[] {
  return [...rows]
    .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.dayNumber - b.dayNumber))
    .map(({ dayNumber: _dayNumber, ...row }) => ({ ...row, onlineMinutes: countMinutes(row.minuteMap) }));
}

/** The shape of InfluxDB 1.x's JSON `/query` answer (one statement). */
export interface InfluxQueryResponse {
  results: Array<{
    statement_id?: number;
    error?: string;
    series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
  }>;
  error?: string;
}

/**
 * Feeds a raw activity answer (`SELECT seq, skewAbsMs, coincident … GROUP BY device`, epoch=ms)
 * into a folder. Columns are looked up by name so the column order does not matter.
 */
export function foldRawActivity(folder: ActivityFolder, response: InfluxQueryResponse): void {
  if (response.error) throw new Error(`InfluxDB query failed: ${response.error}`);
  for (const result of response.results) {
    if (result.error) throw new Error(`InfluxDB query failed: ${result.error}`);
    for (const series of result.series ?? []) {
      const deviceId = series.tags?.device;
      if (!deviceId) continue;
      const col = (name: string) => series.columns.indexOf(name);
      const iTime = col('time');
      const iSeq = col('seq');
      const iSkew = col('skewAbsMs');
      const iCoincident = col('coincident');
      for (const v of series.values) {
        const seq = v[iSeq];
        if (typeof seq !== 'number') continue; // a point without seq is not a heartbeat
        folder.add(deviceId, {
          time: v[iTime] as number,
          seq,
          skewAbsMs: iSkew < 0 ? null : (v[iSkew] as number | null),
          coincident: iCoincident < 0 ? null : (v[iCoincident] as number | null),
        });
      }
    }
  }
}

/** Rows of a rollup answer (`SELECT minuteMap, heartbeats, … FROM activity … GROUP BY device`, epoch=ms). */
export function* rollupRows(response: InfluxQueryResponse): Generator<import('./rollup.js').RollupRow> {
  if (response.error) throw new Error(`InfluxDB query failed: ${response.error}`);
  for (const result of response.results) {
    if (result.error) throw new Error(`InfluxDB query failed: ${result.error}`);
    for (const series of result.series ?? []) {
      const deviceId = series.tags?.device;
      if (!deviceId) continue;
      const at = (name: string) => series.columns.indexOf(name);
      const idx = {
        time: at('time'), minuteMap: at('minuteMap'), heartbeats: at('heartbeats'), firstSeen: at('firstSeen'),
        lastSeen: at('lastSeen'), lastSeq: at('lastSeq'), skewSamples: at('skewSamples'),
        skewAbsSumMs: at('skewAbsSumMs'), coincident: at('coincident'),
      };
      for (const v of series.values) {
        if (typeof v[idx.minuteMap] !== 'string') continue;
        const num = (i: number) => (typeof v[i] === 'number' ? (v[i] as number) : 0);
        yield {
          deviceId,
          time: num(idx.time),
          minuteMap: v[idx.minuteMap] as string,
          heartbeats: num(idx.heartbeats),
          firstSeen: num(idx.firstSeen),
          lastSeen: num(idx.lastSeen),
          lastSeq: num(idx.lastSeq),
          skewSamples: num(idx.skewSamples),
          skewAbsSumMs: num(idx.skewAbsSumMs),
          coincident: num(idx.coincident),
        };
      }
    }
  }
}
