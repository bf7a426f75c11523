import { shanghaiDay } from '../time/shanghai.js';

/**
 * Instants for the rules engine. Only strings with an explicit offset (`Z` or `±hh:mm`) are
 * accepted: a local time would be read in the host's time zone and make results depend on
 * the machine (the engine must be a pure function of its arguments). 37号 §一 states its
 * windows in Beijing time; UTC notation of the same instant is the same instant.
 */
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Epoch ms of an ISO instant with offset, or null when it is not one. */
export function parseInstant(iso: string): number | null {
  if (typeof iso !== 'string' || !INSTANT_RE.test(iso)) return null;
  // Date.parse rolls 2020-06-31 over to 07-01 and accepts 24:00; the engine refuses both, as the API does.
  if (!isCalendarDay(iso.slice(0, 10))) return null;
  const hour = Number(iso.slice(11, 13));
  const minute = Number(iso.slice(14, 16));
  const second = iso[16] === ':' ? Number(iso.slice(17, 19)) : 0;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(iso);
  if (offset && (Number(offset[2]) > 23 || Number(offset[3]) > 59)) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** `YYYY-MM-DD` naming a day that exists in the proleptic Gregorian calendar. */
function isCalendarDay(day: string): boolean {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === day;
}

/**
 * The Asia/Shanghai calendar day (`YYYY-MM-DD`) of an instant, or the day itself when a bare
 * date is given (a contract's signing date is often just a date). Null when neither.
 */
export function shanghaiDayOf(value: string): string | null {
  if (typeof value !== 'string') return null;
  if (DAY_RE.test(value)) return isCalendarDay(value) ? value : null;
  const ms = parseInstant(value);
  return ms === null ? null : shanghaiDay(ms);
}

/** Inclusive on both ends (SPEC rule 6). */
export function withinWindow(ms: number, window: { from: string; to: string }): boolean {
  const from = parseInstant(window.from);
  const to = parseInstant(window.to);
  return from !== null && to !== null && ms >= from && ms <= to;
}
