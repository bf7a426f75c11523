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
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString().replace('Z', '+08:00');
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
