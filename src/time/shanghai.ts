/**
 * Asia/Shanghai calendar arithmetic. China Standard Time is UTC+08:00 with no daylight
 * saving since 1991, so a fixed offset is exact for every date this program can see
 * (37号 §一 states its windows in Beijing time). Pure functions of their arguments.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const SHANGHAI_OFFSET_MS = 8 * HOUR_MS;

/** Days since 1970-01-01 (Shanghai) of an epoch-ms instant. */
export function shanghaiDayNumber(ms: number): number {
  return Math.floor((ms + SHANGHAI_OFFSET_MS) / DAY_MS);
}

/** `YYYY-MM-DD` of the Shanghai calendar day containing the instant. */
export function shanghaiDay(ms: number): string {
  return dayNumberToString(shanghaiDayNumber(ms));
}

/** Minute of the Shanghai day (0..1439) containing the instant. */
export function shanghaiMinuteOfDay(ms: number): number {
  const msOfDay = (ms + SHANGHAI_OFFSET_MS) - shanghaiDayNumber(ms) * DAY_MS;
  return Math.floor(msOfDay / MINUTE_MS);
}

/** Epoch ms of 00:00 Shanghai of the day containing the instant. */
export function shanghaiDayStartOf(ms: number): number {
  return shanghaiDayNumber(ms) * DAY_MS - SHANGHAI_OFFSET_MS;
}

/** ISO weekday (1 = Monday … 7 = Sunday) of the Shanghai day containing the instant. */
export function shanghaiWeekday(ms: number): number {
  const d = new Date(shanghaiDayStartOf(ms) + SHANGHAI_OFFSET_MS).getUTCDay();
  return d === 0 ? 7 : d;
}

/** Epoch ms of 00:00 Shanghai on the given `YYYY-MM-DD`. */
export function shanghaiDayStart(day: string): number {
  return dayStringToNumber(day) * DAY_MS - SHANGHAI_OFFSET_MS;
}

export function addDays(day: string, days: number): string {
  return dayNumberToString(dayStringToNumber(day) + days);
}

/** ISO-8601 with the +08:00 offset, e.g. `2020-10-09T08:00:00.000+08:00`. */
export function toShanghaiIso(ms: number): string {
  const local = ms + SHANGHAI_OFFSET_MS;
  // Whole milliseconds in years 1970–9999 (every time the gateway writes) by arithmetic: a
  // report writes two per device, and Date#toISOString was 10 % of a verification (bench/ verify).
  if (!Number.isInteger(local) || local < 0 || local >= YEAR_10000_MS) return new Date(local).toISOString().replace('Z', '+08:00');
  const day = Math.floor(local / DAY_MS);
  let t = local - day * DAY_MS;
  const milli = t % 1000;
  t = (t - milli) / 1000;
  const second = t % 60;
  t = (t - second) / 60;
  const minute = t % 60;
  const hour = (t - minute) / 60;
  return `${civilDay(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}+08:00`;
}

/** 10000-01-01T00:00Z: from there toISOString writes a six-digit signed year. */
const YEAR_10000_MS = 253_402_300_800_000;

/** `YYYY-MM-DD` of a day number ≥ 0 (days since 1970-01-01), by the proleptic Gregorian calendar (H. Hinnant's civil_from_days). */
function civilDay(dayNumber: number): string {
  const z = dayNumber + 719_468; // days since 0000-03-01
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153); // month from March = 0
  const dayOfMonth = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${pad2(month)}-${pad2(dayOfMonth)}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isDayString(day: string): boolean {
  const m = DAY_RE.exec(day);
  if (!m) return false;
  return dayNumberToString(dayStringToNumber(day)) === day;
}

function dayStringToNumber(day: string): number {
  const m = DAY_RE.exec(day);
  if (!m) throw new RangeError(`not a YYYY-MM-DD day: ${day}`);
  return Math.floor(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS);
}

/** `YYYY-MM-DD` of a Shanghai day number (shanghaiDayNumber). */
export function dayNumberToString(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}
