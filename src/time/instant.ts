import { z } from 'zod';

/**
 * The instants the API accepts. The program's dates all lie in this century; outside it the
 * Shanghai day arithmetic leaves the range `Date` can format (year 0001, 9999 + a window), and
 * an instant there is a typo or a probe, so it is a 400 naming the range, never a 500.
 */
export const EARLIEST_INSTANT_MS = Date.UTC(2000, 0, 1);
/** Exclusive. */
export const END_OF_INSTANTS_MS = Date.UTC(2100, 0, 1);
export const INSTANT_RANGE_MESSAGE = 'must lie between 2000-01-01T00:00:00Z and 2099-12-31T23:59:59Z';

export function isSaneInstant(ms: number): boolean {
  return ms >= EARLIEST_INSTANT_MS && ms < END_OF_INSTANTS_MS;
}

/** ISO-8601 with an offset (`Z` or `+08:00`), inside the sane range. */
export const boundedInstant = () =>
  z.iso.datetime({ offset: true }).refine((s) => isSaneInstant(Date.parse(s)), { message: INSTANT_RANGE_MESSAGE });
