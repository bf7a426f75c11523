/**
 * Heartbeats → InfluxDB points, pure. One point per heartbeat in measurement `heartbeat`:
 *
 *   heartbeat,contract=<id>,device=<id>,supplier=<id>
 *     seq=17i,coincident=0i[,skewMs=-250i,skewAbsMs=250i][,status="running"][,source="10.0.0.7"][,m.spindleRpm=1200]
 *     <receivedAt ms × 10⁶ + seq mod 10⁶>
 *
 * Why the nanosecond offset: InfluxDB identifies a point by series + timestamp, so two
 * heartbeats of one device received in the same millisecond would overwrite each other at ms
 * precision. Writing at ns precision with `seq mod 10⁶` in the sub-millisecond digits keeps
 * both, keeps receivedAt exact (queries use `epoch=ms`, which truncates the offset away), and
 * orders same-millisecond heartbeats by seq — the order the pipeline accepts them in (seq
 * strictly increases per session), so `last(seq)` agrees with SQLite's lastSeq. Within a
 * batch, a remaining collision (same device, ms and seq mod 10⁶) is moved to the next free
 * nanosecond. Across batches it can only be a duplicate seq in the same ms, which the
 * pipeline rejects before the store.
 *
 * Metrics are always written as floats (no `i` suffix): InfluxDB 1.x rejects a point whose
 * field type differs from the shard's, so a metric sent once as 3 and once as 3.5 must not
 * become an integer field. The `m.` prefix keeps metric names apart from our own fields.
 */
import type { Heartbeat } from '../types.js';

export const HEARTBEAT_MEASUREMENT = 'heartbeat';
export const METRIC_FIELD_PREFIX = 'm.';
export const INTEGER_FIELDS = ['seq', 'coincident', 'skewMs', 'skewAbsMs'] as const;
export const STRING_FIELDS = ['status', 'source'] as const;
export const TAGS = ['device', 'contract', 'supplier'] as const;

const NS_PER_MS = 1_000_000;

/** A point as line protocol needs it: typed fields, ns timestamp. */
export interface LinePoint {
  measurement: string;
  tags: Record<string, string>;
  intFields: Record<string, number>;
  floatFields: Record<string, number>;
  stringFields: Record<string, string>;
  /** Nanoseconds since the epoch, as a decimal string (beyond 2^53, so never a number). */
  timestampNs: string;
}

export interface HeartbeatPoint extends LinePoint {
  tags: { device: string; contract: string; supplier: string };
}

/** The sub-millisecond nanosecond offset a heartbeat is written at (before collision bumps). */
export function seqOffsetNs(seq: number): number {
  return ((seq % NS_PER_MS) + NS_PER_MS) % NS_PER_MS;
}

/** `ms × 10⁶ + offset` as an exact decimal string. */
export function nsTimestamp(receivedAtMs: number, offsetNs: number): string {
  if (!Number.isSafeInteger(receivedAtMs) || receivedAtMs < 0) throw new RangeError(`receivedAt must be a non-negative integer ms, got ${receivedAtMs}`);
  return (BigInt(receivedAtMs) * 1_000_000n + BigInt(offsetNs)).toString();
}

export function toHeartbeatPoints(batch: readonly Heartbeat[]): HeartbeatPoint[] {
  const taken = new Set<string>();
  const points: HeartbeatPoint[] = [];
  for (const hb of batch) {
    let offset = seqOffsetNs(hb.seq);
    // Same device, same ms, same seq mod 10⁶ within one batch: next free nanosecond.
    while (taken.has(`${hb.deviceId}|${hb.receivedAt}|${offset}`)) offset = (offset + 1) % NS_PER_MS;
    taken.add(`${hb.deviceId}|${hb.receivedAt}|${offset}`);
    points.push(toHeartbeatPoint(hb, offset));
  }
  return points;
}

export function toHeartbeatPoint(hb: Heartbeat, offsetNs = seqOffsetNs(hb.seq)): HeartbeatPoint {
  const intFields: Record<string, number> = { seq: hb.seq, coincident: hb.coincident ? 1 : 0 };
  if (typeof hb.deviceTs === 'number' && Number.isFinite(hb.deviceTs)) {
    const skewMs = Math.round(hb.deviceTs - hb.receivedAt);
    intFields.skewMs = skewMs;
    intFields.skewAbsMs = Math.abs(skewMs);
  }
  const stringFields: Record<string, string> = {};
  if (hb.status !== undefined) stringFields.status = hb.status;
  if (hb.source) stringFields.source = hb.source;
  const floatFields: Record<string, number> = {};
  for (const [name, value] of Object.entries(hb.metrics ?? {})) {
    if (Number.isFinite(value)) floatFields[METRIC_FIELD_PREFIX + name] = value;
  }
  return {
    measurement: HEARTBEAT_MEASUREMENT,
    tags: { device: hb.deviceId, contract: hb.contractId, supplier: hb.supplierId },
    intFields,
    floatFields,
    stringFields,
    timestampNs: nsTimestamp(hb.receivedAt, offsetNs),
  };
}

// --- line protocol (InfluxDB 1.x /write and 2.x /api/v2/write accept the same text) ---

/** Tag keys/values and field keys: escape comma, equals sign and space (line protocol spec). */
export function escapeKey(value: string): string {
  return value.replace(/[,= \\]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}

/** String field values: double-quoted, escaping `"` and `\`. */
export function quoteString(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function formatFloat(value: number): string {
  // Integral floats are written without a decimal point; InfluxDB still types them float
  // because there is no `i` suffix.
  return String(value);
}

/** One line of line protocol, keys sorted (InfluxDB's own canonical order). */
export function toLine(point: LinePoint): string {
  const tags = Object.entries(point.tags)
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `,${escapeKey(k)}=${escapeKey(v)}`)
    .join('');
  const fields: [string, string][] = [
    ...Object.entries(point.intFields).map(([k, v]): [string, string] => [k, `${Math.trunc(v)}i`]),
    ...Object.entries(point.floatFields).map(([k, v]): [string, string] => [k, formatFloat(v)]),
    ...Object.entries(point.stringFields).map(([k, v]): [string, string] => [k, quoteString(v)]),
  ].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${point.measurement.replace(/[, ]/g, (c) => `\\${c}`)}${tags} ${fields.map(([k, v]) => `${escapeKey(k)}=${v}`).join(',')} ${point.timestampNs}`;
}

export function toLines(batch: readonly Heartbeat[]): string {
  return toHeartbeatPoints(batch).map(toLine).join('\n');
}
