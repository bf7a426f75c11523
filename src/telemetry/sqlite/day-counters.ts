import { DAY_MS } from '../../time/shanghai.js';
import type { DayAccumulator } from '../day-accumulator.js';

/**
 * A device-day's counters as one fixed-width little-endian blob (`telemetry_device_day.counters`,
 * schema migration 3), so the activity query returns a single buffer for thousands of rows —
 * read with a DataView, no SQL text built, no JSON parsed (bench/ verify: the text and its
 * parse were most of a 1,000 × 30 verification). The row's own keys are in the blob too, so the
 * concatenated result says which row each record belongs to.
 *
 *   offset  type  field
 *        0  u32   device_key
 *        4  u16   day_number        (days since 1970-01-01 Shanghai; u16 lasts to 2149)
 *        6  u16   online_minutes    (0..1440)
 *        8  u32   heartbeats
 *       12  i32   first_seen − day_number × DAY_MS   (ms; within −8 h … +16 h)
 *       16  i32   last_seen − day_number × DAY_MS
 *       20  f64   last_seq          (exact up to 2^53, as the payload allows)
 *       28  u32   skew_samples
 *       32  f64   skew_abs_sum_ms   (exact integer sum up to 2^53)
 *       40  u32   coincident
 */
export const DAY_COUNTERS_BYTES = 44;

/** Byte offset of each field in a record (the table above). */
export const DAY_COUNTER_FIELDS = {
  deviceKey: 0,
  dayNumber: 4,
  onlineMinutes: 6,
  heartbeats: 8,
  firstSeen: 12,
  lastSeen: 16,
  lastSeq: 20,
  skewSamples: 28,
  skewAbsSumMs: 32,
  coincident: 40,
} as const;
const F = DAY_COUNTER_FIELDS;

/** A stored device-day's counters: the accumulator's, keyed by the device's integer key, with the online minutes counted. */
export type DayCounters = Omit<DayAccumulator, 'deviceId' | 'minuteMap'> & { deviceKey: number; onlineMinutes: number };

export function encodeDayCounters(c: DayCounters): Uint8Array {
  const bytes = new Uint8Array(DAY_COUNTERS_BYTES);
  const view = new DataView(bytes.buffer);
  const base = c.dayNumber * DAY_MS;
  const firstOffset = c.firstSeen - base;
  const lastOffset = c.lastSeen - base;
  // A time outside its own day would wrap silently in an i32: refuse it (the batch rolls back).
  if (Math.abs(firstOffset) > DAY_MS || Math.abs(lastOffset) > DAY_MS) {
    throw new RangeError(`device-day ${c.deviceKey}/${c.dayNumber}: first/last seen outside the day`);
  }
  view.setUint32(F.deviceKey, c.deviceKey, true);
  view.setUint16(F.dayNumber, c.dayNumber, true);
  view.setUint16(F.onlineMinutes, c.onlineMinutes, true);
  view.setUint32(F.heartbeats, c.heartbeats, true);
  view.setInt32(F.firstSeen, firstOffset, true);
  view.setInt32(F.lastSeen, lastOffset, true);
  view.setFloat64(F.lastSeq, c.lastSeq, true);
  view.setUint32(F.skewSamples, c.skewSamples, true);
  view.setFloat64(F.skewAbsSumMs, c.skewAbsSumMs, true);
  view.setUint32(F.coincident, c.coincident, true);
  return bytes;
}

/** The record at `offset` of a view over one or more concatenated records. */
export function decodeDayCounters(view: DataView, offset = 0): DayCounters {
  const dayNumber = view.getUint16(offset + F.dayNumber, true);
  const base = dayNumber * DAY_MS;
  return {
    deviceKey: view.getUint32(offset + F.deviceKey, true),
    dayNumber,
    onlineMinutes: view.getUint16(offset + F.onlineMinutes, true),
    heartbeats: view.getUint32(offset + F.heartbeats, true),
    firstSeen: base + view.getInt32(offset + F.firstSeen, true),
    lastSeen: base + view.getInt32(offset + F.lastSeen, true),
    lastSeq: view.getFloat64(offset + F.lastSeq, true),
    skewSamples: view.getUint32(offset + F.skewSamples, true),
    skewAbsSumMs: view.getFloat64(offset + F.skewAbsSumMs, true),
    coincident: view.getUint32(offset + F.coincident, true),
  };
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
