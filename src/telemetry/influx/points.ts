/**
 * The InfluxDB schema of a heartbeat (line-protocol.ts writes it). One point per heartbeat in
 * measurement `heartbeat`:
 *
 *   heartbeat,device=<id>,contract=<id>,supplier=<id>
 *     seq=17i,coincident=0i[,skewMs=-250i,skewAbsMs=250i][,status="running"][,source="10.0.0.7"][,m.spindleRpm=1200]
 *     <receivedAt ms × 10⁶ + seq mod 10⁶>
 *
 * Why the nanosecond offset: InfluxDB identifies a point by series + timestamp, so two
 * heartbeats of one device received in the same millisecond would overwrite each other at ms
 * precision. Writing at ns precision with `seq mod 10⁶` in the sub-millisecond digits keeps
 * both, keeps receivedAt exact (queries use `epoch=ms`, which truncates the offset away), and
 * orders same-millisecond heartbeats by seq — the order the heartbeat admission accepts them in (seq
 * strictly increases per session), so `last(seq)` agrees with SQLite's lastSeq. Within a
 * batch, a remaining collision (same device, ms and seq mod 10⁶) is moved to the next free
 * nanosecond. Across batches it can only be a duplicate seq in the same ms, which the
 * admission rejects before the store.
 *
 * Metrics are always written as floats (no `i` suffix): InfluxDB 1.x rejects a point whose
 * field type differs from the shard's, so a metric sent once as 3 and once as 3.5 must not
 * become an integer field. The `m.` prefix keeps metric names apart from our own fields.
 */
export const HEARTBEAT_MEASUREMENT = 'heartbeat';
export const METRIC_FIELD_PREFIX = 'm.';

const NS_PER_MS = 1_000_000;

/** The sub-millisecond nanosecond offset a heartbeat is written at (before collision bumps). */
export function seqOffsetNs(seq: number): number {
  return ((seq % NS_PER_MS) + NS_PER_MS) % NS_PER_MS;
}

/** `ms × 10⁶ + offset` as an exact decimal string. */
export function nsTimestamp(receivedAtMs: number, offsetNs: number): string {
  if (!Number.isSafeInteger(receivedAtMs) || receivedAtMs < 0) throw new RangeError(`receivedAt must be a non-negative integer ms, got ${receivedAtMs}`);
  return (BigInt(receivedAtMs) * 1_000_000n + BigInt(offsetNs)).toString();
}
