import { z } from 'zod';
import type { RejectionReason } from '../telemetry/index.js';

/**
 * The heartbeat payload of ../shared/API.md: JSON ≤ 4 KiB, only `seq` required.
 * Unknown top-level fields are ignored (forward compatibility); known ones must be valid.
 */
export const MAX_PAYLOAD_BYTES = 4096;
const MAX_METRICS = 64;

export const heartbeatPayloadSchema = z.object({
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  ts: z
    .union([
      z.iso.datetime({ offset: true }),
      z.number().int().nonnegative().max(8_640_000_000_000_000),
    ])
    .optional(),
  status: z.enum(['running', 'idle', 'fault', 'off']).optional(),
  metrics: z
    .record(z.string().min(1).max(64), z.number().refine(Number.isFinite, 'metric must be a finite number'))
    .refine((m) => Object.keys(m).length <= MAX_METRICS, `at most ${MAX_METRICS} metrics`)
    .optional(),
});

export type HeartbeatPayload = z.infer<typeof heartbeatPayloadSchema>;

export type RejectReason = Extract<RejectionReason, 'payload-too-large' | 'invalid-json' | 'invalid-payload'>;

export type ParseResult =
  | { ok: true; payload: HeartbeatPayload; deviceTs: number | undefined }
  | { ok: false; reason: RejectReason; detail: string };

/** The parse step of the heartbeat admission: bytes → JSON → validated payload, or a precise reason. */
export function parseHeartbeat(bytes: Uint8Array): ParseResult {
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    return { ok: false, reason: 'payload-too-large', detail: `${bytes.length} bytes > ${MAX_PAYLOAD_BYTES}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'invalid-json', detail: (err as Error).message };
  }
  return acceptPlainHeartbeat(json) ?? validateWithSchema(json);
}

/** The schema of record: zod's verdict on parsed JSON (exported so tests can hold the fast path to it). */
export function validateWithSchema(json: unknown): ParseResult {
  const parsed = heartbeatPayloadSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(payload)';
    return { ok: false, reason: 'invalid-payload', detail: `${where}: ${issue.message}` };
  }
  const protoMetric = ownProtoMetric(json);
  if (protoMetric !== undefined && !(typeof protoMetric === 'number' && Number.isFinite(protoMetric))) {
    return { ok: false, reason: 'invalid-payload', detail: 'metrics.__proto__: metric must be a finite number' };
  }
  const ts = parsed.data.ts;
  const deviceTs = ts === undefined ? undefined : typeof ts === 'number' ? ts : Date.parse(ts);
  return { ok: true, payload: parsed.data, deviceTs };
}

const STATUSES: ReadonlySet<unknown> = new Set(heartbeatPayloadSchema.shape.status.unwrap().options);
const MAX_TS_MS = 8_640_000_000_000_000;
const MAX_METRIC_NAME = 64;

/**
 * The hot path's shortcut (bench/: zod's safeParse was the largest single cost of a heartbeat):
 * a hand-written check that answers only for payloads it can prove valid under
 * `heartbeatPayloadSchema` — a plain object with a safe non-negative integer `seq`, an optional
 * epoch-ms `ts`, a known `status` and at most 64 finite metrics with 1–64 character names —
 * and returns what the zod path would return for them. Anything else (an ISO `ts`, a
 * `__proto__` metric, any doubt) returns undefined and goes through zod, the schema of record,
 * which also words every rejection; test/unit/ingest/payload.test.ts holds both paths to that.
 */
function acceptPlainHeartbeat(json: unknown): ParseResult | undefined {
  if (typeof json !== 'object' || json === null || Object.getPrototypeOf(json) !== Object.prototype) return undefined;
  const { seq, ts, status, metrics } = json as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  if (ts !== undefined && (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0 || ts > MAX_TS_MS)) return undefined;
  if (status !== undefined && !STATUSES.has(status)) return undefined;
  if (metrics !== undefined) {
    if (typeof metrics !== 'object' || metrics === null || Object.getPrototypeOf(metrics) !== Object.prototype) return undefined;
    let count = 0;
    for (const name in metrics) {
      if (!Object.hasOwn(metrics, name)) return undefined;
      const value = (metrics as Record<string, unknown>)[name];
      if (name.length === 0 || name.length > MAX_METRIC_NAME || name === '__proto__') return undefined;
      if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
      if (++count > MAX_METRICS) return undefined;
    }
  }
  // The same shape as zod's output: a fresh object with only the known fields that were given.
  const payload: HeartbeatPayload = { seq };
  if (ts !== undefined) payload.ts = ts;
  if (status !== undefined) payload.status = status as NonNullable<HeartbeatPayload['status']>;
  if (metrics !== undefined) payload.metrics = { ...(metrics as Record<string, number>) };
  return { ok: true, payload, deviceTs: ts as number | undefined };
}

/**
 * zod's record skips an own "__proto__" key (JSON.parse creates one), so its value would go
 * unchecked; this reads it as a plain data property.
 */
function ownProtoMetric(json: unknown): unknown {
  const metrics = (json as { metrics?: unknown }).metrics;
  if (!metrics || typeof metrics !== 'object') return undefined;
  return Object.getOwnPropertyDescriptor(metrics, '__proto__')?.value;
}
