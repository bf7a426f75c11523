/**
 * Helpers over a device-day minute map: 1440 bits in 180 bytes, bit m is byte m>>3, bit m&7,
 * least significant bit first (types.ts `DeviceDayActivity.minuteMap`). A set bit means at
 * least one accepted heartbeat arrived (gateway receive time) in that Asia/Shanghai minute —
 * SPEC "What active device means": online in a minute.
 */
import { MINUTES_PER_DAY, MINUTE_MAP_BYTES } from './types.js';

/** Set bits per byte value, so a count is 180 table look-ups instead of 1440 bit tests. */
const POPCOUNT: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let value = 1; value < 256; value++) table[value] = (value & 1) + table[value >> 1]!;
  return table;
})();

export function createMinuteMap(): Uint8Array {
  return new Uint8Array(MINUTE_MAP_BYTES);
}

/** Marks minute `minuteOfDay` (0..1439) online. */
export function setMinute(map: Uint8Array, minuteOfDay: number): void {
  if (!Number.isInteger(minuteOfDay) || minuteOfDay < 0 || minuteOfDay >= MINUTES_PER_DAY) {
    throw new RangeError(`minute of day out of range: ${minuteOfDay}`);
  }
  map[minuteOfDay >> 3]! |= 1 << (minuteOfDay & 7);
}

export function isMinuteSet(map: Uint8Array, minuteOfDay: number): boolean {
  if (minuteOfDay < 0 || minuteOfDay >= MINUTES_PER_DAY) return false;
  return ((map[minuteOfDay >> 3] ?? 0) & (1 << (minuteOfDay & 7))) !== 0;
}

/** Online minutes of the day: the number of set bits. */
export function countMinutes(map: Uint8Array): number {
  let online = 0;
  const bytes = Math.min(map.length, MINUTE_MAP_BYTES);
  for (let i = 0; i < bytes; i++) online += POPCOUNT[map[i]!]!;
  return online;
}

/**
 * Online minutes among minutes 0..`lastMinuteInclusive` of the day, for "counting activity up
 * to the verification time only" (SPEC) on the day that contains `at`: pass
 * `shanghaiMinuteOfDay(at)`.
 *
 * Inclusive by design: the minute containing `at` counts if it is set. Storage is per minute,
 * so a heartbeat later in that same minute (after `at`) cannot be told apart; including the
 * minute errs by at most one minute, whereas excluding it would drop a minute that was
 * genuinely online before `at` (e.g. a heartbeat at 10:15:02 when verifying at 10:15:30).
 * Values below 0 count nothing; values ≥ 1439 count the whole day.
 */
export function countMinutesUpTo(map: Uint8Array, lastMinuteInclusive: number): number {
  if (lastMinuteInclusive < 0) return 0;
  if (lastMinuteInclusive >= MINUTES_PER_DAY - 1) return countMinutes(map);
  const last = Math.floor(lastMinuteInclusive);
  const fullBytes = last >> 3; // bytes 0..fullBytes-1 lie wholly before the last minute's byte
  let online = 0;
  for (let i = 0; i < fullBytes; i++) online += POPCOUNT[map[i]!]!;
  const keepBits = (last & 7) + 1; // bits 0..last&7 of the last minute's byte
  online += POPCOUNT[(map[fullBytes] ?? 0) & ((1 << keepBits) - 1)]!;
  return online;
}

/** target |= src, byte by byte (merging the same device-day from two sources). Returns target. */
export function orInto(target: Uint8Array, src: Uint8Array): Uint8Array {
  const bytes = Math.min(target.length, src.length);
  for (let i = 0; i < bytes; i++) target[i]! |= src[i]!;
  return target;
}
