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
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * The Asia/Shanghai calendar day (`YYYY-MM-DD`) of an instant, or the day itself when a bare
 * date is given (a contract's signing date is often just a date). Null when neither.
 */
export function shanghaiDayOf(value: string): string | null {
  if (typeof value !== 'string') return null;
  if (DAY_RE.test(value)) {
    const ms = Date.parse(`${value}T00:00:00Z`);
    return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === value ? value : null;
  }
  const ms = parseInstant(value);
  return ms === null ? null : shanghaiDay(ms);
}

/** Inclusive on both ends (SPEC rule 6). */
export function withinWindow(ms: number, window: { from: string; to: string }): boolean {
  const from = parseInstant(window.from);
  const to = parseInstant(window.to);
  return from !== null && to !== null && ms >= from && ms <= to;
}
