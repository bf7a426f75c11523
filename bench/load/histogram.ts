/**
 * A log-bucketed latency histogram (5 % wide buckets from 10 µs to ~10 min): constant memory,
 * mergeable across load processes, percentiles within 5 %.
 */
const MIN_MS = 0.01;
const GROWTH = 1.05;
const BUCKETS = 400;
const LOG_GROWTH = Math.log(GROWTH);

export function createHistogram(): Float64Array {
  return new Float64Array(BUCKETS);
}

export function record(h: Float64Array, ms: number): void {
  const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH) + 1);
  h[i]! += 1;
}

export function merge(into: Float64Array, from: ArrayLike<number>): Float64Array {
  for (let i = 0; i < BUCKETS; i++) into[i]! += from[i] ?? 0;
  return into;
}

/** Upper edge of the bucket holding the q-quantile (0 < q ≤ 1), ms; NaN when empty. */
export function quantile(h: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < BUCKETS; i++) total += h[i]!;
  if (total === 0) return Number.NaN;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h[i]!;
    if (seen >= rank) return i === 0 ? MIN_MS : MIN_MS * GROWTH ** i;
  }
  return MIN_MS * GROWTH ** (BUCKETS - 1);
}
