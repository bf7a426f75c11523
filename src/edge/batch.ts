/**
 * The plain JSON batch for platforms without Sparkplug (API.md "Edge gateways"):
 * `v1/edges/{edgeId}/heartbeats` ← `[{"device": "<id>", "seq": n, "ts"?, "status"?, "metrics"?}, …]`.
 * Each entry is a heartbeat of its own: validated by the heartbeat schema of record, ≤ 4 KiB,
 * and rejected on its own; one bad entry never costs the others.
 */
import { MAX_PAYLOAD_BYTES, validateWithSchema, type ParseResult } from '../ingest/payload.js';

export const MAX_BATCH_BYTES = 256 * 1024;
/** A 256 KiB message of the smallest valid entries is a few thousand; more is not a batch. */
export const MAX_BATCH_ENTRIES = 10_000;

export function batchTopic(edgeNodeId: string): string {
  return `v1/edges/${edgeNodeId}/heartbeats`;
}

export type BatchEntry = { device: string; result: ParseResult } | { device: undefined; reason: 'invalid-payload' | 'payload-too-large'; detail: string };

export type BatchParse =
  | { ok: true; entries: BatchEntry[] }
  | { ok: false; reason: 'payload-too-large' | 'invalid-json' | 'invalid-payload'; detail: string };

export function parseBatch(bytes: Uint8Array): BatchParse {
  if (bytes.length > MAX_BATCH_BYTES) return { ok: false, reason: 'payload-too-large', detail: `${bytes.length} bytes > ${MAX_BATCH_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'invalid-json', detail: (err as Error).message };
  }
  if (!Array.isArray(json)) return { ok: false, reason: 'invalid-payload', detail: '(payload): expected an array of heartbeats' };
  if (json.length > MAX_BATCH_ENTRIES) return { ok: false, reason: 'invalid-payload', detail: `${json.length} entries > ${MAX_BATCH_ENTRIES}` };
  return { ok: true, entries: json.map(parseEntry) };
}

function parseEntry(entry: unknown, index: number): BatchEntry {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return { device: undefined, reason: 'invalid-payload', detail: `[${index}]: expected an object` };
  }
  const { device, ...heartbeat } = entry as Record<string, unknown>;
  if (typeof device !== 'string' || device.length === 0 || device.length > 64) {
    return { device: undefined, reason: 'invalid-payload', detail: `[${index}].device: expected a device id` };
  }
  const size = Buffer.byteLength(JSON.stringify(entry));
  if (size > MAX_PAYLOAD_BYTES) {
    return { device, result: { ok: false, reason: 'payload-too-large', detail: `entry ${index}: ${size} bytes > ${MAX_PAYLOAD_BYTES}` } };
  }
  return { device, result: validateWithSchema(heartbeat) };
}
