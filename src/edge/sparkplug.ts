/**
 * Sparkplug B (Eclipse Sparkplug 3.0) as the gateway reads it: topic names and protobuf
 * payloads, decoded by Eclipse Tahu's `sparkplug-payload` library.
 *
 * Topic: `spBv1.0/{group_id}/{message_type}/{edge_node_id}[/{device_id}]` (Sparkplug 3.0 §4.1).
 * An edge node publishes NBIRTH, NDEATH, NDATA (no device id) and DBIRTH, DDEATH, DDATA (with
 * one); NCMD, DCMD and STATE travel the other way and are never accepted from an edge node.
 */
import * as sparkplugPayload from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import { validateWithSchema, type ParseResult } from '../ingest/payload.js';

export const SPARKPLUG_NAMESPACE = 'spBv1.0';
export const NODE_MESSAGES = ['NBIRTH', 'NDEATH', 'NDATA'] as const;
export const DEVICE_MESSAGES = ['DBIRTH', 'DDEATH', 'DDATA'] as const;
export type NodeMessage = (typeof NODE_MESSAGES)[number];
export type DeviceMessage = (typeof DEVICE_MESSAGES)[number];

export type SparkplugTopic =
  | { kind: 'node'; group: string; type: NodeMessage; edgeNodeId: string }
  | { kind: 'device'; group: string; type: DeviceMessage; edgeNodeId: string; deviceId: string };

/** Birth certificates list every metric with its metadata; a device's DATA is a heartbeat (≤ 4 KiB, API.md). */
export const MAX_BIRTH_BYTES = 64 * 1024;
export const MAX_DATA_BYTES = 4096;

// A namespace import: its `get` resolves both as ESM (Node) and as CommonJS (tsx in the gateway's worker thread).
const codec = sparkplugPayload.get(SPARKPLUG_NAMESPACE)!;

export function encodeSparkplug(payload: UPayload): Uint8Array {
  return codec.encodePayload(payload);
}

/** Parses a Sparkplug topic, or says why it is not one an edge node may publish to. */
export function parseSparkplugTopic(topic: string): SparkplugTopic | { error: string } {
  const levels = topic.split('/');
  if (levels[0] !== SPARKPLUG_NAMESPACE) return { error: 'not a Sparkplug B topic' };
  const [, group, type, edgeNodeId, deviceId, ...rest] = levels;
  if (!group || !type || !edgeNodeId || rest.length > 0) return { error: 'malformed Sparkplug topic' };
  if ((NODE_MESSAGES as readonly string[]).includes(type)) {
    if (deviceId !== undefined) return { error: `${type} carries no device id` };
    return { kind: 'node', group, type: type as NodeMessage, edgeNodeId };
  }
  if ((DEVICE_MESSAGES as readonly string[]).includes(type)) {
    if (!deviceId) return { error: `${type} needs a device id` };
    return { kind: 'device', group, type: type as DeviceMessage, edgeNodeId, deviceId };
  }
  return { error: `message type ${type} is not published by an edge node` };
}

export interface DecodedSparkplug {
  /** 0–255, absent on NDEATH. */
  seq: number | undefined;
  /** The edge node's own timestamp, epoch ms: kept only for skew, like a device `ts`. */
  timestamp: number | undefined;
  metrics: UMetric[];
}

export type DecodeResult = { ok: true; value: DecodedSparkplug } | { ok: false; reason: 'payload-too-large' | 'invalid-sparkplug'; detail: string };

export function decodeSparkplug(bytes: Uint8Array, maxBytes: number): DecodeResult {
  if (bytes.length > maxBytes) return { ok: false, reason: 'payload-too-large', detail: `${bytes.length} bytes > ${maxBytes}` };
  let payload: UPayload;
  try {
    payload = codec.decodePayload(bytes);
  } catch (err) {
    return { ok: false, reason: 'invalid-sparkplug', detail: (err as Error).message };
  }
  const seq = toNumber(payload.seq);
  if (seq !== undefined && (seq < 0 || seq > 255)) return { ok: false, reason: 'invalid-sparkplug', detail: `seq ${seq} outside 0..255` };
  return { ok: true, value: { seq, timestamp: toNumber(payload.timestamp), metrics: payload.metrics ?? [] } };
}

/** bdSeq of an NBIRTH or NDEATH (Sparkplug 3.0 §6.4.6: an UInt64 metric named "bdSeq"). */
export function bdSeqOf(metrics: readonly UMetric[]): number | undefined {
  const metric = metrics.find((m) => m.name === 'bdSeq');
  return metric ? toNumber(metric.value) : undefined;
}

/** Alias → name, from a birth certificate (Sparkplug 3.0 §6.4.10: DATA may send aliases only). */
export function aliasesOf(metrics: readonly UMetric[]): Map<number, string> {
  const aliases = new Map<number, string>();
  for (const m of metrics) {
    const alias = toNumber(m.alias);
    if (alias !== undefined && m.name) aliases.set(alias, m.name);
  }
  return aliases;
}

const STATUS_VALUES: ReadonlySet<string> = new Set(['running', 'idle', 'fault', 'off']);

/**
 * A device message as the heartbeat it stands for: numeric and boolean metrics become the
 * heartbeat's metrics, a String metric named `status` its status, the payload timestamp its
 * `ts`. Control metrics (`Node Control/…`, `Device Control/…`) and other types are not
 * activity data and are left out. The result goes through the heartbeat schema of record, so
 * the same limits (64 metrics, names of 1–64 characters) apply as to a direct heartbeat.
 */
export function toHeartbeatPayload(decoded: DecodedSparkplug, seq: number, aliases: ReadonlyMap<number, string>): ParseResult {
  const metrics: Record<string, number> = {};
  let status: string | undefined;
  let any = false;
  for (const m of decoded.metrics) {
    const name = m.name ?? (m.alias !== undefined && m.alias !== null ? aliases.get(toNumber(m.alias)!) : undefined);
    if (!name || name.startsWith('Node Control/') || name.startsWith('Device Control/') || name === 'bdSeq') continue;
    if (name === 'status' && typeof m.value === 'string') {
      if (STATUS_VALUES.has(m.value)) status = m.value;
      continue;
    }
    const value = typeof m.value === 'boolean' ? (m.value ? 1 : 0) : toNumber(m.value);
    if (value === undefined || !Number.isFinite(value)) continue;
    metrics[name] = value;
    any = true;
  }
  const json: Record<string, unknown> = { seq };
  if (decoded.timestamp !== undefined) json.ts = decoded.timestamp;
  if (status !== undefined) json.status = status;
  if (any) json.metrics = metrics;
  return validateWithSchema(json);
}

/** protobuf uint64 arrives as a `long` object; numbers beyond 2^53 are not a seq or a time. */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'toNumber' in value && typeof (value as { toNumber: unknown }).toNumber === 'function') {
    return (value as { toNumber(): number }).toNumber();
  }
  return undefined;
}
