/**
 * The points the InfluxDB store handed to the `influx` package's writePoints before it wrote
 * line protocol itself (src/telemetry/influx/line-protocol.ts): kept here as the oracle that
 * encoder is held to, byte for byte, through the package's own serialiser
 * (test/unit/telemetry-influx/line-protocol.test.ts).
 */
import { HEARTBEAT_MEASUREMENT, METRIC_FIELD_PREFIX, nsTimestamp, seqOffsetNs } from '../../src/telemetry/influx/points.js';
import { ACTIVITY_MEASUREMENT, type DayRollup } from '../../src/telemetry/influx/rollup.js';
import type { Heartbeat } from '../../src/telemetry/types.js';

/** The store's former schemas: field types by name (metrics were always floats). */
export const INTEGER_FIELDS = ['seq', 'coincident', 'skewMs', 'skewAbsMs'] as const;
export const STRING_FIELDS = ['status', 'source'] as const;
export const TAGS = ['device', 'contract', 'supplier'] as const;
export const ACTIVITY_INTEGER_FIELDS = ['heartbeats', 'firstSeen', 'lastSeen', 'lastSeq', 'skewSamples', 'skewAbsSumMs', 'coincident'] as const;
export const ACTIVITY_STRING_FIELDS = ['minuteMap'] as const;

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

export function rollupPoint(r: DayRollup): LinePoint {
  return {
    measurement: ACTIVITY_MEASUREMENT,
    tags: { device: r.deviceId },
    intFields: {
      heartbeats: r.heartbeats,
      firstSeen: r.firstSeen,
      lastSeen: r.lastSeen,
      lastSeq: r.lastSeq,
      skewSamples: r.skewSamples,
      skewAbsSumMs: r.skewAbsSumMs,
      coincident: r.coincident,
    },
    floatFields: {},
    stringFields: { minuteMap: Buffer.from(r.minuteMap).toString('base64') },
    timestampNs: r.timestampNs,
  };
}
